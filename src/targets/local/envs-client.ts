/**
 * A client of the environment service on this machine, with Atrium's own hub token
 * (an admin service; root-only file). It talks to the service directly on
 * 127.0.0.1, and may act for a user (X-Atrium-User), which the service allows for
 * admins only. Used by deploy (prebuilt environments), `atrium env` and `atrium status`.
 */
import { readFileSync } from "node:fs";
import type { ApiBuild, ApiError } from "../../contracts/envs-api.js";
import { AtriumError } from "../../errors.js";
import { envsUrl } from "./envs.js";
import type { LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";

export interface EnvsAnswer {
  status: number;
  text: string;
  headers: Headers;
}

export class EnvsClient {
  private readonly base: string;
  private readonly token: string;

  constructor(
    placement: LocalPlacement,
    private readonly actAs?: string,
  ) {
    this.base = `${envsUrl(placement)}/api/v1`;
    try {
      this.token = readFileSync(secretPath(placement, "atrium_api_token"), "utf8").trim();
    } catch {
      throw new AtriumError(
        "not-found",
        "Atrium's hub token is missing or unreadable",
        "run atrium deploy first, as root",
      );
    }
  }

  async request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<EnvsAnswer> {
    const headers: Record<string, string> = { Authorization: `token ${this.token}` };
    if (this.actAs) headers["X-Atrium-User"] = this.actAs;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${this.base}/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AtriumError(
        "apply-failed",
        `the environment service is not answering (${(err as Error).message})`,
        "check atrium status and atrium logs envs",
      );
    }
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** The `data` of a JSON answer; an error answer becomes an AtriumError with its message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.request(method, path, body);
    let parsed: { data?: T; message?: string } | undefined;
    try {
      parsed = JSON.parse(r.text) as { data?: T; message?: string };
    } catch {
      parsed = undefined;
    }
    if (r.status >= 400 || !parsed) {
      const message = (parsed as ApiError | undefined)?.message ?? r.text.slice(0, 200);
      throw new AtriumError(r.status === 404 ? "not-found" : "apply-failed", message);
    }
    return parsed.data as T;
  }

  async text(path: string): Promise<string> {
    const r = await this.request("GET", path);
    if (r.status >= 400) {
      let message = r.text;
      try {
        message = (JSON.parse(r.text) as ApiError).message;
      } catch {
        // plain text
      }
      throw new AtriumError(r.status === 404 ? "not-found" : "apply-failed", message);
    }
    return r.text;
  }

  async waitUntilUp(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const r = await this.request("GET", "", undefined, 5_000);
        if (r.status === 200) return;
      } catch {
        // not yet
      }
      if (Date.now() > until) {
        throw new AtriumError(
          "apply-failed",
          "the environment service did not start",
          "see atrium logs envs (or <log_dir>/envs.log)",
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Follow a build until it ends, passing new log text to `onLog`; returns the final build. */
  async follow(id: number, onLog: (text: string) => void, timeoutMs = 3_600_000): Promise<ApiBuild> {
    const until = Date.now() + timeoutMs;
    let offset = 0;
    for (;;) {
      const r = await this.request("GET", `build/${id}/logs/?offset=${offset}`);
      if (r.status >= 400) await this.json("GET", `build/${id}/`);
      if (r.text) onLog(r.text);
      offset = Number(r.headers.get("X-Log-Size") ?? offset) || offset;
      const status = r.headers.get("X-Build-Status");
      if (status && status !== "QUEUED" && status !== "BUILDING") {
        return this.json<ApiBuild>("GET", `build/${id}/`);
      }
      if (Date.now() > until) throw new AtriumError("apply-failed", `build ${id} did not finish in time`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
