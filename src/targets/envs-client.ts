/**
 * A client of the environment service's API, with Atrium's own hub token (an admin
 * service): on this machine straight to the service on 127.0.0.1, on a cluster through
 * the platform's public address. It may act for a user (X-Atrium-User), which the
 * service allows for admins only. Used by deploy (prebuilt environments), `atrium env`
 * and `atrium status`.
 */
import type { ApiBuild, ApiError } from "../contracts/envs-api.js";
import { AtriumError } from "../errors.js";
import { type HttpAnswer, requestText } from "../lib/http-request.js";

export type EnvsAnswer = HttpAnswer;

/** Where the service answers and how to talk to it; found once, when the first request is made. */
export interface EnvsEndpoint {
  /** Where the service's prefix answers (…/services/envs). */
  serviceUrl: string;
  token: string;
  /** The certificate to trust when the address is https with a self-signed certificate. */
  ca?: string;
}

export class EnvsClient {
  private endpoint: Promise<EnvsEndpoint> | undefined;

  constructor(
    private readonly find: () => Promise<EnvsEndpoint> | EnvsEndpoint,
    private readonly actAs?: string,
  ) {}

  async request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<EnvsAnswer> {
    this.endpoint ??= Promise.resolve(this.find());
    const { serviceUrl, token, ca } = await this.endpoint;
    const headers: Record<string, string> = { Authorization: `token ${token}` };
    if (this.actAs) headers["X-Atrium-User"] = this.actAs;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await requestText(`${serviceUrl}/api/v1/${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs,
        ...(ca === undefined ? {} : { ca }),
      });
    } catch (err) {
      throw new AtriumError(
        "apply-failed",
        `the environment service is not answering (${(err as Error).message})`,
        "check atrium status and atrium logs envs",
      );
    }
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
      offset = Number(r.header("X-Log-Size") ?? offset) || offset;
      const status = r.header("X-Build-Status");
      if (status && status !== "QUEUED" && status !== "BUILDING") {
        return this.json<ApiBuild>("GET", `build/${id}/`);
      }
      if (Date.now() > until) throw new AtriumError("apply-failed", `build ${id} did not finish in time`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
