/**
 * Who is calling a service behind the hub: an API client with a hub token
 * (`Authorization: token ...`), or a browser logged in through the hub (OAuth code
 * flow, then a session cookie scoped to the service's prefix).
 *
 * Must stay true: identities come from the hub only (never from the request);
 * tokens and session ids are never logged; a session's identity is re-read from
 * the hub after IDENTITY_TTL_MS, so admin and group changes apply without a new login.
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { authorizeUrl, exchangeCode, type HubIdentity, whoAmI } from "./oauth.js";

export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

/** The token of an `Authorization: token|bearer|jupyterhub <token>` header. */
export function headerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = auth ? /^(token|jupyterhub|bearer)\s+(\S+)$/i.exec(auth) : null;
  return m?.[2];
}

export interface LoginOptions {
  /** Public path prefix of the service, e.g. /services/envs. */
  prefix: string;
  hubApiUrl: string;
  /** Public path of the hub, for the browser's redirect, e.g. /hub. */
  hubPrefix: string;
  clientId: string;
  clientSecret: string;
  cookieName: string;
  log: (line: string) => void;
}

export interface Caller extends HubIdentity {
  /** "token": an Authorization header; "session": a browser session cookie. */
  via: "token" | "session";
  /** For sessions: the value a browser must echo in X-CSRF-Token on changes. */
  csrf?: string;
}

interface Session {
  token: string;
  identity: HubIdentity;
  checked: number;
  csrf: string;
  expires: number;
}

const SESSION_MS = 8 * 3600_000;
/** How long a browser session's identity is trusted for reads before the hub is asked again. */
const IDENTITY_TTL_MS = 10_000;
/** How long a token the hub refused stays refused without asking again. */
const REFUSED_TOKEN_MS = 5_000;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const LOGIN_MS = 600_000;

export class HubLogin {
  readonly callbackPath: string;
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<string, { next: string; expires: number }>();
  /** sha256 of a token the hub refused -> until when it stays refused. */
  private readonly refusedTokens = new Map<string, number>();

  constructor(private readonly opts: LoginOptions) {
    this.callbackPath = `${opts.prefix}/oauth_callback`;
  }

  /** The caller, or undefined when the request carries no identity the hub accepts. */
  async identify(req: IncomingMessage): Promise<Caller | undefined> {
    const token = headerToken(req);
    if (token) {
      const identity = await this.tokenIdentity(token);
      return identity ? { ...identity, via: "token" } : undefined;
    }
    const id = cookies(req).get(this.opts.cookieName);
    const session = id ? this.sessions.get(id) : undefined;
    if (!id || !session) return undefined;
    if (session.expires < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    // A change is made only by someone the hub accepts right now (a logout or a revoked
    // token takes effect at once); reads may use an identity checked a minute ago.
    const mustCheck =
      !SAFE_METHODS.has(req.method ?? "GET") || Date.now() - session.checked > IDENTITY_TTL_MS;
    if (mustCheck) {
      const fresh = await whoAmI(this.opts.hubApiUrl, session.token);
      if (!fresh) {
        this.sessions.delete(id);
        return undefined;
      }
      session.identity = fresh;
      session.checked = Date.now();
    }
    return { ...session.identity, via: "session", csrf: session.csrf };
  }

  /**
   * Who a token belongs to, asked of the hub on every request, so that a revoked or
   * expired token stops working at once. Only refusals are remembered, briefly, so a
   * flood of bad tokens does not become a flood of hub requests.
   */
  private async tokenIdentity(token: string): Promise<HubIdentity | undefined> {
    const key = createHash("sha256").update(token).digest("hex");
    const refused = this.refusedTokens.get(key);
    if (refused !== undefined && refused > Date.now()) return undefined;
    const identity = await whoAmI(this.opts.hubApiUrl, token);
    if (identity) return identity;
    if (this.refusedTokens.size > 10_000) this.refusedTokens.clear();
    this.refusedTokens.set(key, Date.now() + REFUSED_TOKEN_MS);
    return undefined;
  }

  /** Send the browser to the hub to log in, coming back to `next` (a path under the prefix). */
  startLogin(req: IncomingMessage, res: ServerResponse): void {
    const now = Date.now();
    for (const [k, v] of this.pending) if (v.expires < now) this.pending.delete(k);
    const state = randomBytes(16).toString("hex");
    const wanted = req.url ?? this.opts.prefix;
    const next = wanted.startsWith(`${this.opts.prefix}/`) ? wanted : `${this.opts.prefix}/`;
    this.pending.set(state, { next, expires: now + LOGIN_MS });
    res.writeHead(302, {
      Location: authorizeUrl(this.opts.hubPrefix, this.opts.clientId, this.callbackPath, state),
    });
    res.end();
  }

  /** The hub's redirect back: trade the code for a token and open a session. */
  async finishLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const state = url.searchParams.get("state") ?? "";
    const pending = this.pending.get(state);
    this.pending.delete(state);
    const code = url.searchParams.get("code");
    const fail = (status: number, text: string) => {
      res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(`${text}\n`);
    };
    if (!pending || pending.expires < Date.now() || !code) {
      fail(400, "This login link has expired; open the page again.");
      return;
    }
    const token = await exchangeCode(
      this.opts.hubApiUrl,
      this.opts.clientId,
      this.opts.clientSecret,
      code,
      this.callbackPath,
    );
    const identity = await whoAmI(this.opts.hubApiUrl, token);
    if (!identity) {
      fail(403, "The hub did not accept this login.");
      return;
    }
    const now = Date.now();
    for (const [k, s] of this.sessions) if (s.expires < now) this.sessions.delete(k);
    const id = randomBytes(24).toString("hex");
    this.sessions.set(id, {
      token,
      identity,
      checked: now,
      csrf: randomBytes(16).toString("hex"),
      expires: now + SESSION_MS,
    });
    const secure = req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
    res.writeHead(302, {
      Location: pending.next,
      "Set-Cookie": `${this.opts.cookieName}=${id}; Path=${this.opts.prefix}; HttpOnly; SameSite=Lax${secure}`,
    });
    res.end();
    this.opts.log(`login: ${identity.name}`);
  }
}
