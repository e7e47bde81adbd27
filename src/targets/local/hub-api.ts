/** A small client of the hub's REST API, with Atrium's own service token (root-only file). */
import { readFileSync } from "node:fs";
import { AtriumError } from "../../errors.js";
import type { LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";
import { hubUrl } from "./urls.js";

export interface HubUser {
  name: string;
  admin: boolean;
  groups: string[];
  servers?: Record<string, { ready: boolean; started: string | null; url: string; user_options?: unknown }>;
  last_activity: string | null;
}

export class HubApi {
  private readonly base: string;
  private readonly token: string;

  constructor(placement: LocalPlacement) {
    this.base = `${hubUrl(placement)}/hub/api`;
    try {
      this.token = readFileSync(secretPath(placement, "atrium_api_token"), "utf8").trim();
    } catch {
      throw new AtriumError("not-found", "Atrium's hub token is missing", "run atrium deploy first");
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { Authorization: `token ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, data: (text ? JSON.parse(text) : undefined) as T };
  }

  async users(): Promise<HubUser[]> {
    const { status, data } = await this.request<HubUser[]>("GET", "/users?include_stopped_servers=false");
    if (status !== 200) throw new AtriumError("apply-failed", `the hub answered ${status} listing users`);
    return data;
  }

  async stopServer(user: string): Promise<number> {
    return (await this.request("DELETE", `/users/${encodeURIComponent(user)}/server`)).status;
  }
}
