/**
 * The environment service's HTTP side, behind the hub's proxy at <prefix>/: the
 * page (browser login through the hub), the OAuth callback, and the REST API for
 * browsers (session cookie + CSRF token) and API clients (hub token).
 *
 * Must stay true: nothing is answered before the caller is known to the hub;
 * `X-Atrium-User` (act for a user) is honoured for admins only; a browser's
 * changes must carry the session's CSRF token; tokens are never logged.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Caller, HubLogin } from "../hub/login.js";
import { renderPage } from "./page.js";
import type { Person } from "./permissions.js";
import { type Answer, route } from "./routes.js";
import type { EnvService } from "./service.js";

export const ACT_AS_HEADER = "x-atrium-user";
const MAX_BODY = 1 << 20;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface ServerOptions {
  prefix: string;
  hubPrefix: string;
  service: EnvService;
  login: HubLogin;
  /** Resolves once the hub's users and groups are known. */
  ready(): Promise<void>;
  /** The hub's users, for acting as one; refreshes when a name is not known yet. */
  lookupUser(name: string): Promise<{ admin: boolean; groups: readonly string[] } | undefined>;
  log: (line: string) => void;
}

function send(res: ServerResponse, a: Answer): void {
  const headers: Record<string, string> = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...a.headers,
  };
  if (a.text !== undefined) {
    res.writeHead(a.status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
    res.end(a.text);
  } else {
    res.writeHead(a.status, { ...headers, "Content-Type": "application/json" });
    res.end(JSON.stringify(a.json ?? null));
  }
}

const error = (status: number, message: string): Answer => ({ status, json: { status: "error", message } });

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  const body = JSON.parse(text) as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not an object");
  return body as Record<string, unknown>;
}

/** The person a request acts as: the caller, or (admins only) the user named in X-Atrium-User. */
async function personOf(caller: Caller, req: IncomingMessage, opts: ServerOptions): Promise<Person | Answer> {
  const actAs = req.headers[ACT_AS_HEADER];
  if (typeof actAs !== "string" || actAs === "") return caller;
  if (!caller.admin) return error(403, "only admins may act for another user");
  const user = await opts.lookupUser(actAs);
  if (!user) return error(404, `no user "${actAs}"`);
  return { name: actAs, kind: "user", admin: user.admin, groups: user.groups };
}

export function createEnvsServer(opts: ServerOptions): Server {
  const { prefix, login } = opts;
  const api = `${prefix}/api/v1`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://local");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === login.callbackPath) return login.finishLogin(req, res);
    if (path === prefix) {
      res.writeHead(302, { Location: `${prefix}/` });
      res.end();
      return;
    }
    const caller = await login.identify(req);
    if (path === `${prefix}/`) {
      if (method !== "GET") return send(res, error(405, `${method} is not allowed here`));
      if (!caller) return login.startLogin(req, res);
      const nonce = randomBytes(16).toString("base64");
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; frame-ancestors 'self'`,
        "X-Content-Type-Options": "nosniff",
      });
      res.end(renderPage({ user: caller.name, csrf: caller.csrf ?? "", nonce, hubPrefix: opts.hubPrefix }));
      return;
    }
    if (path !== api && !path.startsWith(`${api}/`)) return send(res, error(404, `nothing at ${path}`));
    if (!caller) return send(res, error(401, "log in to the hub, or send Authorization: token <hub token>"));
    const known = await Promise.race([opts.ready().then(() => true), sleep(30_000).then(() => false)]);
    if (!known)
      return send(res, error(503, "the hub's users and groups are not known yet; try again shortly"));
    if (caller.via === "session" && method !== "GET" && req.headers["x-csrf-token"] !== caller.csrf) {
      return send(res, error(403, "missing or wrong X-CSRF-Token; reload the page"));
    }
    const person = await personOf(caller, req, opts);
    if (!("name" in person)) return send(res, person);
    let body: Record<string, unknown> = {};
    if (method === "POST" || method === "PUT") {
      try {
        body = await readBody(req);
      } catch (err) {
        return send(res, error(400, `the request body must be a JSON object (${(err as Error).message})`));
      }
    }
    const sub = path.slice(api.length).replace(/^\/+|\/+$/g, "");
    send(res, await route(opts.service, person, method, sub, url.searchParams, body));
  };

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log(
        `error on ${req.method} ${(req.url ?? "").split("?")[0]}: ${(err as Error).stack ?? String(err)}`,
      );
      if (!res.headersSent) send(res, error(500, "internal error in the environment service; see its log"));
      else res.end();
    });
  });
}
