/**
 * Who may log in: a user of the platform (in the rendered list, with a Linux
 * account) who presents either a JupyterHub API token of their own as the password,
 * or a key from their ~/.ssh/authorized_keys. Failed password and signed-key
 * attempts count against the address and the account tried (rate-limit.ts); key offers without a
 * signature are the client asking which key to use, and are not failures.
 *
 * Must stay true: the password (a token) is only ever sent to the hub, never
 * logged, compared or stored here.
 */
import ssh2, { type AuthContext } from "ssh2";
import type { SshUser } from "../../contracts/ssh-service.js";
import { type Account, lookupAccount } from "./accounts.js";
import { readAuthorizedKeys } from "./authorized-keys.js";
import { checkToken } from "./hub-token.js";
import type { LoginThrottle } from "./rate-limit.js";

export const METHODS: Array<"publickey" | "password"> = ["publickey", "password"];

/** What a login needs of a user: the home their authorized_keys is read from. */
export interface LoginUser {
  name: string;
  home: string;
  shell: string;
}

export interface AuthDeps<U extends LoginUser = SshUser> {
  users: { get(name: string): U | undefined };
  hubApiUrl: string;
  limiter: LoginThrottle;
  log(line: string): void;
  lookup?: (name: string) => Promise<Account | undefined>;
}

export type AuthOutcome<U extends LoginUser = SshUser> =
  | { ok: true; user: U; account: Account }
  | { ok: false };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function keyMatches(ctx: Extract<AuthContext, { method: "publickey" }>, account: Account) {
  const { keys, problems } = readAuthorizedKeys(account.home, account.uid);
  for (const k of keys) {
    const parsed = ssh2.utils.parseKey(`${k.type} ${k.data}`);
    if (parsed instanceof Error) continue;
    if (parsed.getPublicSSH().equals(ctx.key.data)) return { key: parsed, problems };
  }
  return { key: undefined, problems };
}

/**
 * Answer one authentication request. Refusals (and key probes) are answered here;
 * on success the caller records the user and then calls `ctx.accept()`, because
 * ssh2 announces the logged-in connection from within accept().
 */
export async function authenticate<U extends LoginUser>(
  ctx: AuthContext,
  source: string,
  deps: AuthDeps<U>,
): Promise<AuthOutcome<U>> {
  const name = ctx.username;
  const user = deps.users.get(name);
  const refuse = (why: string, counts: boolean): AuthOutcome<U> => {
    if (counts) {
      const n = deps.limiter.fail(source, name);
      deps.log(
        `login refused: ${JSON.stringify(name)} from ${source} by ${ctx.method}: ${why} (failure ${n})`,
      );
    }
    ctx.reject(METHODS);
    return { ok: false };
  };
  if (ctx.method !== "password" && ctx.method !== "publickey") {
    ctx.reject(METHODS);
    return { ok: false };
  }
  const probing = ctx.method === "publickey" && !ctx.signature;
  if (!probing) {
    const delay = deps.limiter.delayFor(source, name);
    if (delay > 0) await sleep(delay);
  }
  const account = user ? await (deps.lookup ?? lookupAccount)(name) : undefined;
  if (!user || !account) return refuse(user ? "no Linux account" : "not a user of this platform", !probing);

  if (ctx.method === "password") {
    const check = await checkToken(deps.hubApiUrl, name, ctx.password);
    if (!check.ok) return refuse(check.reason, true);
  } else {
    const { key, problems } = keyMatches(ctx, account);
    if (!key) {
      if (problems.length > 0 && !probing) deps.log(`${name}: authorized_keys: ${problems.join("; ")}`);
      return refuse("key not in ~/.ssh/authorized_keys", !probing);
    }
    if (probing) {
      ctx.accept(); // tells the client this key will do; it signs next
      return { ok: false };
    }
    if (!ctx.blob || !ctx.signature || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      return refuse("bad signature", true);
    }
  }
  deps.limiter.succeed(source, name);
  deps.log(`login: ${name} from ${source} by ${ctx.method}`);
  // People who signed on get their home and shell from their account.
  const who: U = user.home ? user : { ...user, home: account.home, shell: account.shell };
  return { ok: true, user: who, account };
}
