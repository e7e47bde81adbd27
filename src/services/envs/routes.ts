/**
 * The REST API under <prefix>/api/v1/, shaped like conda-store's: namespaces,
 * environments, specifications, builds with their logs, lockfiles and specs.
 * `route` maps (person, method, path, query, body) to an answer; it does no I/O of
 * its own beyond calling the service, so it is tested without a server.
 *
 * Must stay true: every route goes through a service method that checks the person
 * first; errors are `{status: "error", message}` with 400/403/404/409.
 */
import type { ApiOk, ApiPage } from "../../contracts/envs-api.js";
import type { Person } from "./permissions.js";
import { ApiFailure, type EnvService } from "./service.js";

export interface Answer {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

const ok = <T>(data: T, message?: string): Answer => ({
  status: 200,
  json: { status: "ok", data, ...(message ? { message } : {}) } satisfies ApiOk<T>,
});

function paginate<T>(items: T[], query: URLSearchParams): Answer {
  const size = Math.min(1000, Math.max(1, Number(query.get("size") ?? 100) || 100));
  const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
  const body: ApiPage<T> = {
    status: "ok",
    data: items.slice((page - 1) * size, page * size),
    page,
    size,
    count: items.length,
  };
  return { status: 200, json: body };
}

function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ApiFailure(400, `${key} must be text`);
  return v;
}

function buildId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ApiFailure(404, `no build ${raw}`);
  return id;
}

function specText(body: Record<string, unknown>): string {
  const spec = body.specification;
  if (typeof spec === "string") return spec;
  throw new ApiFailure(400, "specification must be the text of an environment.yaml or a requirement list");
}

type Handler = (
  m: string[],
  ctx: { person: Person; query: URLSearchParams; body: Record<string, unknown>; service: EnvService },
) => Answer | Promise<Answer>;

const SEG = "([^/]+)";

const ROUTES: Array<[string, RegExp, Handler]> = [
  ["GET", /^$/, (_m, { service }) => ok({ version: "1", backend: "uv", python: service.pythonVersion })],
  [
    "GET",
    /^permission$/,
    (_m, { person, service }) =>
      ok({
        authenticated: true,
        name: person.name,
        admin: person.admin,
        primary_namespace: person.kind === "user" ? person.name : "global",
        namespaces: service.namespaces(person),
      }),
  ],
  ["GET", /^namespace$/, (_m, { person, service, query }) => paginate(service.namespaces(person), query)],
  [
    "GET",
    new RegExp(`^namespace/${SEG}$`),
    (m, { person, service }) => ok(service.namespace(person, m[1] ?? "")),
  ],
  [
    "PUT",
    new RegExp(`^namespace/${SEG}$`),
    (m, { person, service, body }) => ok(service.setEditors(person, m[1] ?? "", body.editors)),
  ],
  [
    "GET",
    /^environment$/,
    (_m, { person, service, query }) =>
      paginate(
        service.environments(person, {
          namespace: query.get("namespace") ?? "",
          name: query.get("name") ?? "",
          search: query.get("search") ?? "",
        }),
        query,
      ),
  ],
  [
    "GET",
    new RegExp(`^environment/${SEG}/${SEG}$`),
    (m, { person, service }) => ok(service.environment(person, m[1] ?? "", m[2] ?? "")),
  ],
  [
    "PUT",
    new RegExp(`^environment/${SEG}/${SEG}$`),
    async (m, { person, service, body }) => {
      const [ns, name] = [m[1] ?? "", m[2] ?? ""];
      const description = str(body, "description");
      if (body.build_id === undefined && description === undefined) {
        throw new ApiFailure(400, "give build_id (the build to make current) or description");
      }
      let env = service.environment(person, ns, name);
      if (description !== undefined) env = await service.describe(person, ns, name, description);
      if (body.build_id !== undefined) {
        const id = Number(body.build_id);
        if (!Number.isSafeInteger(id)) throw new ApiFailure(400, "build_id must be a build's number");
        env = await service.setCurrent(person, ns, name, id);
      }
      return ok(env);
    },
  ],
  [
    "DELETE",
    new RegExp(`^environment/${SEG}/${SEG}$`),
    async (m, { person, service }) => {
      await service.deleteEnvironment(person, m[1] ?? "", m[2] ?? "");
      return ok(null, "environment deleted");
    },
  ],
  [
    "GET",
    new RegExp(`^environment/${SEG}/${SEG}/lockfile$`),
    (m, { person, service }) => ({
      status: 200,
      text: service.currentLockfile(person, m[1] ?? "", m[2] ?? ""),
    }),
  ],
  [
    "POST",
    /^specification$/,
    (_m, { person, service, body }) => {
      const { build, unchanged } = service.submit(person, {
        namespace: str(body, "namespace"),
        name: str(body, "environment_name") || undefined,
        description: str(body, "environment_description"),
        specification: specText(body),
        ifChanged: body.if_changed === true,
        managedBy: str(body, "managed_by"),
      });
      return ok({ build_id: build.id, unchanged, build }, unchanged ? "unchanged" : "build queued");
    },
  ],
  [
    "GET",
    /^build$/,
    (_m, { person, service, query }) => {
      const envId = query.get("environment_id");
      return paginate(
        service.builds(person, {
          namespace: query.get("namespace") ?? "",
          name: query.get("name") ?? "",
          status: query.get("status") ?? "",
          ...(envId ? { environment_id: Number(envId) } : {}),
        }),
        query,
      );
    },
  ],
  ["GET", /^build\/(\w+)$/, (m, { person, service }) => ok(service.build(person, buildId(m[1] ?? "")))],
  [
    "PUT",
    /^build\/(\w+)$/,
    (m, { person, service }) => {
      const build = service.rebuild(person, buildId(m[1] ?? ""));
      return ok({ build_id: build.id, build }, "rebuild queued");
    },
  ],
  [
    "DELETE",
    /^build\/(\w+)$/,
    (m, { person, service }) => {
      service.deleteBuild(person, buildId(m[1] ?? ""));
      return ok(null, "build deleted");
    },
  ],
  [
    "PUT",
    /^build\/(\w+)\/cancel$/,
    (m, { person, service }) => ok(service.cancel(person, buildId(m[1] ?? "")), "build canceled"),
  ],
  [
    "GET",
    /^build\/(\w+)\/logs$/,
    (m, { person, service, query }) => {
      const log = service.buildLog(person, buildId(m[1] ?? ""), Number(query.get("offset") ?? 0) || 0);
      return {
        status: 200,
        text: log.text,
        headers: { "X-Build-Status": log.status, "X-Log-Size": String(log.size) },
      };
    },
  ],
  [
    "GET",
    /^build\/(\w+)\/lockfile$/,
    (m, { person, service }) => ({ status: 200, text: service.lockfile(person, buildId(m[1] ?? "")) }),
  ],
  [
    "GET",
    /^build\/(\w+)\/yaml$/,
    (m, { person, service }) => ({
      status: 200,
      text: service.build(person, buildId(m[1] ?? "")).specification.spec,
    }),
  ],
];

/** Answer one API call; `path` is what follows /api/v1/, without slashes at either end. */
export async function route(
  service: EnvService,
  person: Person,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): Promise<Answer> {
  let known = false;
  for (const [verb, re, handler] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    known = true;
    if (verb !== method) continue;
    const decoded = m.map((x) => {
      try {
        return decodeURIComponent(x);
      } catch {
        return x;
      }
    });
    try {
      return await handler(decoded, { person, query, body, service });
    } catch (err) {
      if (err instanceof ApiFailure)
        return { status: err.status, json: { status: "error", message: err.message } };
      throw err;
    }
  }
  return known
    ? { status: 405, json: { status: "error", message: `${method} is not allowed here` } }
    : { status: 404, json: { status: "error", message: `no API route ${path}/` } };
}
