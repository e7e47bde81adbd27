/**
 * The Dask dashboard guard: dask-gateway serves every cluster's dashboard without
 * authentication, so Atrium puts this in front of the gateway's proxy. API calls
 * pass through (the gateway checks their tokens itself); a dashboard is served only
 * to the cluster's owner, known by a hub token or a hub login (OAuth) in the browser,
 * and ownership is asked of the gateway itself with the caller's own token.
 *
 * Must stay true: no dashboard byte reaches anyone the gateway would not show the
 * cluster to; tokens are never logged.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { cookies, headerToken } from "../hub/login.js";
import { authorizeUrl, exchangeCode, whoAmI } from "../hub/oauth.js";
import { canonicalUrl } from "./canonical-path.js";
import { forwardRequest, forwardUpgrade } from "./forward.js";

export interface GuardOptions {
  upstream: string;
  prefix: string;
  hubApiUrl: string;
  hubPrefix: string;
  clientId: string;
  clientSecret: string;
  log: (line: string) => void;
}

interface Session {
  token: string;
  user: string;
  expires: number;
}

const COOKIE = "atrium-dask-session";
const SESSION_MS = 8 * 3600_000;
const OWNER_CACHE_MS = 30_000;

function deny(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`${text}\n`);
}

export function createGuard(opts: GuardOptions) {
  const upstream = new URL(opts.upstream);
  const sessions = new Map<string, Session>();
  const pendingLogins = new Map<string, { next: string; expires: number }>();
  const owners = new Map<string, { ok: boolean; until: number }>();
  const callbackPath = `${opts.prefix}/oauth_callback`;
  const dashboard = new RegExp(`^${opts.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/clusters/([^/?]+)`);

  const sessionOf = (req: IncomingMessage): Session | undefined => {
    const id = cookies(req).get(COOKIE);
    const s = id ? sessions.get(id) : undefined;
    if (s && s.expires < Date.now()) {
      if (id) sessions.delete(id);
      return undefined;
    }
    return s;
  };

  /** Whether the gateway shows this cluster to the token's owner. */
  const owns = async (token: string, cluster: string): Promise<boolean> => {
    const key = `${token}\0${cluster}`;
    const cached = owners.get(key);
    if (cached && cached.until > Date.now()) return cached.ok;
    const res = await fetch(`${opts.upstream}${opts.prefix}/api/v1/clusters/${encodeURIComponent(cluster)}`, {
      headers: { Authorization: `jupyterhub ${token}` },
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    const ok = res?.status === 200;
    await res?.body?.cancel();
    owners.set(key, { ok, until: Date.now() + OWNER_CACHE_MS });
    return ok;
  };

  const tokenFor = (req: IncomingMessage): string | undefined => headerToken(req) ?? sessionOf(req)?.token;

  const startLogin = (req: IncomingMessage, res: ServerResponse) => {
    const state = randomBytes(16).toString("hex");
    pendingLogins.set(state, { next: req.url ?? opts.prefix, expires: Date.now() + 600_000 });
    res.writeHead(302, { Location: authorizeUrl(opts.hubPrefix, opts.clientId, callbackPath, state) });
    res.end();
  };

  const finishLogin = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://local");
    const state = url.searchParams.get("state") ?? "";
    const pending = pendingLogins.get(state);
    pendingLogins.delete(state);
    const code = url.searchParams.get("code");
    if (!pending || pending.expires < Date.now() || !code) {
      deny(res, 400, "This login link has expired; open the dashboard link again.");
      return;
    }
    const token = await exchangeCode(opts.hubApiUrl, opts.clientId, opts.clientSecret, code, callbackPath);
    const who = await whoAmI(opts.hubApiUrl, token);
    if (!who) {
      deny(res, 403, "The hub did not accept this login.");
      return;
    }
    const id = randomBytes(24).toString("hex");
    sessions.set(id, { token, user: who.name, expires: Date.now() + SESSION_MS });
    const secure = req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
    res.writeHead(302, {
      Location: pending.next,
      "Set-Cookie": `${COOKIE}=${id}; Path=${opts.prefix}; HttpOnly; SameSite=Lax${secure}`,
    });
    res.end();
    opts.log(`dashboard login: ${who.name}`);
  };

  /**
   * Rewrites the request to its one canonical spelling, so that what is decided on is
   * what the gateway serves (no %-encoded or dot-segment way around the dashboard rule).
   */
  const canonicalize = (req: IncomingMessage): string | undefined => {
    const c = canonicalUrl(req.url ?? "/");
    if (!c) return undefined;
    req.url = c.path + c.query;
    return c.path;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = canonicalize(req);
    if (path === undefined) return deny(res, 400, "This address is not a valid path.");
    if (path === callbackPath) return finishLogin(req, res);
    const m = dashboard.exec(path);
    if (!m) return forwardRequest(upstream, req, res);
    const token = tokenFor(req);
    if (!token) {
      if (req.method === "GET") return startLogin(req, res);
      return deny(res, 401, "Log in to the hub to see this dashboard.");
    }
    if (!(await owns(token, decodeURIComponent(m[1] ?? "")))) {
      return deny(res, 403, "This Dask cluster is not yours.");
    }
    forwardRequest(upstream, req, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log(`error on ${req.method} ${(req.url ?? "").split("?")[0]}: ${(err as Error).message}`);
      if (!res.headersSent) deny(res, 502, "The dashboard could not be reached.");
      else res.end();
    });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    const path = canonicalize(req);
    if (path === undefined) return refuse("400 Bad Request");
    const m = dashboard.exec(path);
    const token = tokenFor(req);
    if (!m) return forwardUpgrade(upstream, req, socket, head);
    if (!token) return refuse("401 Unauthorized");
    owns(token, decodeURIComponent(m[1] ?? "")).then(
      (ok) => (ok ? forwardUpgrade(upstream, req, socket, head) : refuse("403 Forbidden")),
      () => refuse("502 Bad Gateway"),
    );
  });
  return server;
}
