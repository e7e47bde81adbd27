/**
 * Cross-field rules about how the platform runs: the target, HTTPS, ports, login
 * and Dask. Defaults come from the schema itself (never repeated here), so a port
 * the user left out still counts in a clash.
 */
import { FETCH_BLOCKED_PORTS } from "./blocked-ports.js";
import type { ConfigPath } from "./problem.js";
import { type Ctx, isRec, type Rec, str, unique } from "./rules-common.js";
import { configSchema, DASHBOARD_PORT_COUNT, PLANNED_TARGETS } from "./schema.js";
import { defaultAt, shapeKeys } from "./schema-keys.js";
import { quote } from "./text.js";
import { parseSize } from "./units.js";

/** Local keys (folders, ports) mean something only in a local block; the schema tells about them elsewhere. */
const isLocal = (target: Rec) => target.type === undefined || target.type === "local";
/** The targets whose block has an https section. */
const hasHttps = (target: Rec) => isLocal(target) || target.type === "kubernetes";

export function checkTarget(ctx: Ctx, target: unknown): void {
  if (!isRec(target)) return;
  const type = str(target.type);
  if (type !== undefined && (PLANNED_TARGETS as readonly string[]).includes(type)) {
    ctx.problems.push({
      path: ["target", "type"],
      message: `target "${type}" is not supported yet`,
      hint: "use type: local (this machine) or kubernetes (an existing cluster); other targets are planned",
    });
  }
  if (!hasHttps(target)) return;
  const https = target.https;
  if (!isRec(https) || ctx.failed(["target", "https", "mode"])) return;
  const mode = https.mode ?? defaultAt(configSchema, ["target", "https", "mode"]);
  const given = ["cert", "key"].filter((k) => https[k] !== undefined);
  if (mode === "manual") {
    for (const key of ["cert", "key"].filter((k) => !given.includes(k))) {
      ctx.problems.push({
        path: ["target", "https"],
        atKey: true,
        message: `https mode "manual" needs ${key}`,
        hint: `add ${key}: /path/to/${key === "cert" ? "fullchain.pem" : "privkey.pem"}`,
      });
    }
  } else if (given[0] !== undefined) {
    ctx.problems.push({
      path: ["target", "https", given[0]],
      atKey: true,
      message: "cert and key are only used with mode: manual",
      hint: `set mode: manual, or remove ${given.join(" and ")}`,
    });
  }
}

// Issuers of these presets differ per installation, so the file must say which
// one; the other presets know their provider's single issuer.
const ISSUER_SHAPE: Record<string, { url: string; why: string }> = {
  keycloak: { url: "https://<keycloak host>/realms/<realm>", why: "each Keycloak realm has its own URL" },
  auth0: { url: "https://<tenant>.auth0.com/", why: "each Auth0 tenant has its own URL" },
};

export function checkAuth(ctx: Ctx, auth: unknown): void {
  if (!isRec(auth) || auth.type !== "oidc" || auth.issuer !== undefined) return;
  if (auth.preset === undefined) {
    ctx.problems.push({
      path: ["auth"],
      atKey: true,
      message: "issuer is required unless a preset sets it",
      hint: "add issuer: <your provider's URL>, or preset: github or preset: google",
    });
    return;
  }
  const preset = str(auth.preset);
  if (preset === undefined || ctx.failed(["auth", "preset"])) return;
  const shape = ISSUER_SHAPE[preset];
  if (shape !== undefined) {
    ctx.problems.push({
      path: ["auth", "preset"],
      message: `preset ${preset} needs issuer: ${shape.why}`,
      hint: `add issuer: ${shape.url}`,
    });
  }
}

function sizeOf(v: unknown): number | undefined {
  return typeof v === "string" || typeof v === "number" ? parseSize(v) : undefined;
}

export function checkDask(ctx: Ctx, dask: unknown): void {
  if (!isRec(dask)) return;
  const limits = isRec(dask.limits) ? dask.limits : {};
  const maxMem = sizeOf(limits.max_memory);
  const maxCores = typeof limits.max_cores === "number" ? limits.max_cores : undefined;
  const schedulerWritten = dask.scheduler_memory ?? defaultAt(configSchema, ["dask", "scheduler_memory"]);
  const schedulerMem = sizeOf(schedulerWritten);
  const profiles = Array.isArray(dask.worker_profiles) ? dask.worker_profiles : [];
  unique(
    ctx,
    profiles.map((p) => (isRec(p) ? p : {})),
    ["dask", "worker_profiles"],
    "name",
    "worker profile name",
    "string",
  );
  profiles.forEach((p, i) => {
    if (!isRec(p)) return;
    const mem = sizeOf(p.memory);
    if (mem !== undefined && maxMem !== undefined && mem > maxMem) {
      ctx.problems.push({
        path: ["dask", "worker_profiles", i, "memory"],
        message: `a worker's memory ${quote(p.memory)} is more than limits.max_memory ${quote(limits.max_memory)}`,
        hint: "no user could start such a worker; lower it or raise the limit",
      });
    } else if (
      mem !== undefined &&
      maxMem !== undefined &&
      schedulerMem !== undefined &&
      mem + schedulerMem > maxMem
    ) {
      ctx.problems.push({
        path: ["dask", "worker_profiles", i, "memory"],
        message: `a worker's memory ${quote(p.memory)} and its cluster's scheduler (dask.scheduler_memory ${quote(schedulerWritten)}) are more than limits.max_memory ${quote(limits.max_memory)}`,
        hint: "no user could start a cluster with such a worker; lower it or scheduler_memory, or raise the limit",
      });
    }
    if (typeof p.cores === "number" && maxCores !== undefined && p.cores > maxCores) {
      ctx.problems.push({
        path: ["dask", "worker_profiles", i, "cores"],
        message: `a worker's cores ${p.cores} are more than limits.max_cores ${maxCores}`,
        hint: "no user could start such a worker; lower it or raise the limit",
      });
    }
  });
}

interface PortUse {
  path: ConfigPath;
  port: number;
  /** Written in the file, as opposed to the schema's default. */
  written: boolean;
}

/** The port at `path`: as written when it is a valid port, else the default; undefined if the schema rejected it. */
function portAt(ctx: Ctx, section: unknown, key: string, path: ConfigPath): PortUse | undefined {
  const raw = isRec(section) ? section[key] : undefined;
  if (raw === undefined) {
    const port = defaultAt(configSchema, path);
    return typeof port === "number" ? { path, port, written: false } : undefined;
  }
  if (typeof raw !== "number" || ctx.failed(path)) return undefined;
  return { path, port: raw, written: true };
}

/** Every port the platform opens, written or default, is used once. */
export function checkPorts(ctx: Ctx, data: Rec): void {
  const { target, ssh } = data;
  const uses: Array<PortUse | undefined> = [];
  if (target === undefined || (isRec(target) && isLocal(target))) {
    uses.push(portAt(ctx, target, "port", ["target", "port"]));
    const ports = isRec(target) ? target.ports : undefined;
    if (ports === undefined || isRec(ports)) {
      for (const key of shapeKeys(configSchema, ["target", "ports"])) {
        uses.push(portAt(ctx, ports, key, ["target", "ports", key]));
      }
    }
  }
  const sshOn = ssh === undefined || (isRec(ssh) && (ssh.enabled === undefined || ssh.enabled === true));
  if (sshOn) uses.push(portAt(ctx, ssh, "port", ["ssh", "port"]));
  checkDashboardBlock(ctx, uses);
  for (const use of uses) {
    if (use === undefined || !use.written || !FETCH_BLOCKED_PORTS.has(use.port)) continue;
    ctx.problems.push({
      path: use.path,
      message: `port ${use.port} is one that browsers and HTTP clients refuse to connect to`,
      hint: "pick another port (the Fetch standard's list of bad ports)",
    });
  }
  const written = uses.filter((u): u is PortUse => u?.written === true);
  const defaults = uses.filter((u): u is PortUse => u?.written === false);
  // Report at the port the user wrote: the later one when both are written.
  const byLine = [...written].sort((a, b) => ctx.lineOf(a.path) - ctx.lineOf(b.path));
  const first = new Map<number, PortUse>();
  for (const use of byLine) {
    const seen = first.get(use.port);
    if (seen) {
      ctx.problems.push({
        path: use.path,
        message: `port ${use.port} is also used by ${seen.path.join(".")}`,
        hint: "give each service its own port",
      });
      continue;
    }
    first.set(use.port, use);
    const taken = defaults.find((d) => d.port === use.port);
    if (taken) {
      const name = taken.path.join(".");
      ctx.problems.push({
        path: use.path,
        message: `port ${use.port} is also the default of ${name}`,
        hint: `pick another port or set ${name}`,
      });
    }
  }
}

/** The dashboards' block of ports fits below 65536 and holds no other port of the platform. */
function checkDashboardBlock(ctx: Ctx, uses: Array<PortUse | undefined>): void {
  const block = uses.find((u) => u?.path.at(-1) === "dask_dashboards");
  if (block === undefined) return;
  const last = block.port + DASHBOARD_PORT_COUNT - 1;
  if (last > 65535) {
    ctx.problems.push({
      path: block.path,
      message: `the dashboards' ${DASHBOARD_PORT_COUNT} ports from ${block.port} run past 65535`,
      hint: `start the block at ${65536 - DASHBOARD_PORT_COUNT} or lower`,
    });
    return;
  }
  for (const use of uses) {
    if (use === undefined || use === block || use.port < block.port || use.port > last) continue;
    const at = use.written || !block.written ? use : block;
    const other = at === use ? block : use;
    ctx.problems.push({
      path: at.path,
      message: `port ${use.port} is inside the Dask dashboards' ports ${block.port}-${last} (${other.path.join(".")})`,
      hint: "move the port or target.ports.dask_dashboards so they do not overlap",
    });
  }
}
