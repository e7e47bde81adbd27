/**
 * A deployed site's hub through its REST API, as the cluster tests and benchmarks use it:
 * requests with a token, a new token for a user, a user's server started and waited for.
 */
import assert from "node:assert/strict";
import { poll } from "./pods.js";

export interface SiteHub {
  api(token: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** A new API token of `user`, made with the admin's token. */
  userToken(admin: string, user: string): Promise<string>;
  /** Starts the user's server (`options`: the user_options, e.g. the profile) and waits until it is ready. */
  spawnReady(admin: string, user: string, options?: Record<string, string>): Promise<void>;
}

/** `base`: the platform's address, e.g. http://127.0.0.1:30080. */
export function siteHub(base: string): SiteHub {
  const api = (token: string, method: string, path: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { Authorization: `token ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(`${base}/hub/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };
  return {
    api,
    async userToken(admin, user) {
      const res = await api(admin, "POST", `/users/${user}/tokens`);
      assert.equal(res.status, 201, `a token for ${user}: ${res.status}`);
      return ((await res.json()) as { token: string }).token;
    },
    async spawnReady(admin, user, options) {
      const spawned = await api(admin, "POST", `/users/${user}/server`, options);
      assert.ok(
        [201, 202].includes(spawned.status),
        `spawn ${user}: ${spawned.status} ${await spawned.text()}`,
      );
      await poll(`${user}'s server to be ready`, 300, async () => {
        const u = (await (await api(admin, "GET", `/users/${user}`)).json()) as {
          servers?: Record<string, { ready: boolean }>;
        };
        return u.servers?.[""]?.ready ? true : undefined;
      });
    },
  };
}
