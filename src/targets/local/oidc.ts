/**
 * Single sign-on on this machine: the client secret's way to the hub, and the
 * accounts the hub makes when people first log in.
 *
 * What must stay true:
 * - the client secret is taken from the environment as ../oidc-client-secret.ts
 *   says; it is kept in a root-only (0600) file that the supervisor
 *   hands to the hub as that same variable; it never appears in a rendered file,
 *   on a command line, in the state or in a log (the state keeps a short digest,
 *   so a changed secret restarts the hub);
 * - deploy refuses, before changing anything, when the variable is not set;
 * - `destroy --purge` removes the accounts the hub recorded as made at login, and
 *   no other.
 */
import { existsSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { type OidcAccounts, oidcAccounts } from "../../contracts/oidc-accounts.js";
import type { Platform } from "../../model/platform.js";
import type { Component, Progress } from "../component.js";
import { checkClientSecret, clientSecretDigest, oidcOf, takeClientSecret } from "../oidc-client-secret.js";
import type { LocalContext } from "./context.js";
import { run, tryRun } from "./exec.js";
import { writeFileAtomic } from "./fsutil.js";
import type { LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";

export const OIDC_SECRET = "oidc_client_secret";
export const OIDC_SECRET_COMPONENT = "oidc-secret";

/** The hub's record of the accounts it made at login (written by the hub glue, see oidc.py). */
export function oidcAccountsFile(placement: LocalPlacement): string {
  return posix.join(placement.paths.hubDataDir, "oidc-accounts.json");
}

/** The hub's secret environment for OIDC: the variable the file names -> the root-only file. */
export function oidcSecretEnv(platform: Platform, placement: LocalPlacement): Record<string, string> {
  const oidc = oidcOf(platform);
  return oidc ? { [oidc.clientSecretEnv]: secretPath(placement, OIDC_SECRET) } : {};
}

/** What restarts the hub besides its own files: a new client secret. */
export function oidcRestartOn(platform: Platform): string[] {
  return oidcOf(platform) ? [`component:${OIDC_SECRET_COMPONENT}`] : [];
}

/** The client secret into its root-only file; a new secret changes the spec, which restarts the hub. */
export function oidcSecretComponent(ctx: LocalContext): Component | undefined {
  const oidc = oidcOf(ctx.platform);
  if (!oidc) return undefined;
  const file = secretPath(ctx.placement, OIDC_SECRET);
  const secret = takeClientSecret(oidc.clientSecretEnv);
  let stored: string | undefined;
  try {
    stored = readFileSync(file, "utf8").trim();
  } catch {
    stored = undefined;
  }
  // Without the variable (plan, status) the stored secret stands for it, so nothing shows as changed.
  const current = secret ?? stored;
  return {
    name: OIDC_SECRET_COMPONENT,
    title: `OIDC client secret from $${oidc.clientSecretEnv} (root-only file)`,
    spec: {
      env: oidc.clientSecretEnv,
      file,
      digest: current === undefined ? null : clientSecretDigest(current),
    },
    present: () => existsSync(file),
    async apply() {
      if (secret === undefined) {
        checkClientSecret(ctx.platform); // throws: the variable is not set
        return undefined;
      }
      if (stored === secret) return { note: "unchanged" };
      writeFileAtomic(file, `${secret}\n`, 0o600);
      return { note: stored === undefined ? "stored" : "replaced" };
    },
  };
}

/** The accounts the hub recorded as made at first login (valid names only). */
export function loginAccounts(placement: LocalPlacement): string[] {
  let accounts: OidcAccounts["accounts"];
  try {
    accounts = oidcAccounts.parse(JSON.parse(readFileSync(oidcAccountsFile(placement), "utf8"))).accounts;
  } catch {
    return [];
  }
  return Object.entries(accounts)
    .filter(([, record]) => record.created)
    .map(([name]) => name);
}

/**
 * `destroy --purge`: remove the accounts the hub made at login (never any other);
 * their processes were stopped before.
 */
export async function purgeLoginAccounts(placement: LocalPlacement, progress: Progress): Promise<void> {
  for (const name of loginAccounts(placement)) {
    if ((await tryRun("getent", ["passwd", name])) === undefined) continue;
    await run("userdel", ["-r", name], { okCodes: [12] });
    progress.detail(`user ${name} (made at login) removed`);
  }
}
