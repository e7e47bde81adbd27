/**
 * Rules that relate several fields: uniqueness, references between sections,
 * guarantees within limits. They read the raw YAML data defensively, so they
 * run even where the schema found other mistakes, and every problem is reported
 * in the same run.
 */
import type { ConfigPath, UnlocatedProblem } from "./problem.js";
import { type Config, PLANNED_TARGETS } from "./schema.js";
import { suggestion } from "./suggest.js";
import { parseSize } from "./units.js";

/** Names no platform account or group may take: they belong to the system. */
export const RESERVED_NAMES = new Set([
  "root",
  "daemon",
  "bin",
  "sys",
  "sync",
  "games",
  "man",
  "lp",
  "mail",
  "news",
  "uucp",
  "proxy",
  "www-data",
  "backup",
  "list",
  "irc",
  "gnats",
  "nobody",
  "nogroup",
  "systemd-network",
  "systemd-resolve",
  "systemd-timesync",
  "messagebus",
  "sshd",
  "_apt",
  "adm",
  "tty",
  "disk",
  "kmem",
  "dialout",
  "cdrom",
  "floppy",
  "audio",
  "video",
  "plugdev",
  "staff",
  "users",
  "sudo",
  "wheel",
  "shadow",
  "utmp",
  "operator",
  "src",
  "voice",
  "tape",
  "fax",
  "dip",
  "sasl",
  "input",
  "kvm",
  "render",
  "netdev",
  "crontab",
  "ssh",
  "docker",
  "lxd",
  "admin",
  "atrium",
]);

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function list(data: Rec, key: string): Rec[] {
  const v = data[key];
  return Array.isArray(v) ? v.map((x) => (isRec(x) ? x : {})) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function strings(v: unknown): Array<[number, string]> {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x, i) => (typeof x === "string" ? [[i, x] as [number, string]] : []));
}

interface Ctx {
  problems: UnlocatedProblem[];
  lineOf: (path: ConfigPath) => number;
}

function unique(ctx: Ctx, items: Rec[], section: ConfigPath, field: string, what: string): void {
  const where = (i: number) => `${section.join(".")}[${i}]`;
  const first = new Map<unknown, number>();
  items.forEach((item, i) => {
    const v = item[field];
    if (v === undefined) return;
    const seen = first.get(v);
    if (seen === undefined) {
      first.set(v, i);
      return;
    }
    ctx.problems.push({
      path: [...section, i, field],
      message: `duplicate ${what} ${JSON.stringify(v)}`,
      hint: `first defined at ${where(seen)} (line ${ctx.lineOf([...section, seen, field])}); use another ${field}`,
    });
  });
}

function reserved(ctx: Ctx, items: Rec[], section: string, what: string): void {
  items.forEach((item, i) => {
    const name = str(item.name);
    if (name !== undefined && RESERVED_NAMES.has(name)) {
      ctx.problems.push({
        path: [section, i, "name"],
        message: `"${name}" is a system ${what} name and can't be used`,
        hint: `choose another name, e.g. "${name}1" or a person's name`,
      });
    }
  });
}

/**
 * All cross-field problems of the raw data. `parsed` is the schema's output when the
 * schema found nothing wrong; rules that need defaults filled in use it.
 */
export function checkRules(
  data: unknown,
  lineOf: (path: ConfigPath) => number,
  parsed?: Config,
): UnlocatedProblem[] {
  const ctx: Ctx = { problems: [], lineOf };
  if (!isRec(data)) return ctx.problems;
  const users = list(data, "users");
  const groups = list(data, "groups");
  const profiles = list(data, "profiles");
  const environments = list(data, "environments");
  const userNames = users.flatMap((u) => str(u.name) ?? []);
  const groupNames = groups.flatMap((g) => str(g.name) ?? []);

  checkTarget(ctx, data.target);
  unique(ctx, users, ["users"], "name", "user name");
  unique(ctx, users, ["users"], "uid", "uid");
  unique(ctx, groups, ["groups"], "name", "group name");
  unique(ctx, groups, ["groups"], "gid", "gid");
  unique(ctx, profiles, ["profiles"], "name", "profile name");
  reserved(ctx, users, "users", "user");
  reserved(ctx, groups, "groups", "group");

  users.forEach((u, i) => {
    for (const [j, g] of strings(u.groups)) {
      if (!groupNames.includes(g)) {
        ctx.problems.push({
          path: ["users", i, "groups", j],
          message: `group "${g}" is not defined in groups`,
          hint: suggestion(g, groupNames, "groups"),
        });
      }
    }
  });

  checkProfiles(ctx, profiles, userNames, groupNames);
  checkEnvironments(ctx, environments, userNames, groupNames);
  checkAdmins(ctx, data, users);
  checkDask(ctx, data.dask);
  if (parsed) checkPorts(ctx, parsed);
  return ctx.problems;
}

function checkTarget(ctx: Ctx, target: unknown): void {
  if (!isRec(target)) return;
  const type = str(target.type);
  if (type !== undefined && (PLANNED_TARGETS as readonly string[]).includes(type)) {
    ctx.problems.push({
      path: ["target", "type"],
      message: `target "${type}" is not supported yet`,
      hint: "use type: local (this machine); other targets are planned",
    });
  }
  const https = target.https;
  if (isRec(https) && https.mode === "manual") {
    for (const key of ["cert", "key"]) {
      if (https[key] === undefined) {
        ctx.problems.push({
          path: ["target", "https"],
          atKey: true,
          message: `https mode "manual" needs ${key}`,
          hint: `add ${key}: /path/to/${key === "cert" ? "fullchain.pem" : "privkey.pem"}`,
        });
      }
    }
  }
}

function checkProfiles(ctx: Ctx, profiles: Rec[], userNames: string[], groupNames: string[]): void {
  const defaults = profiles.flatMap((p, i) => (p.default === true ? [i] : []));
  if (profiles.length > 0 && defaults.length === 0) {
    ctx.problems.push({
      path: ["profiles"],
      atKey: true,
      message: "no profile is marked default",
      hint: "add default: true to exactly one profile",
    });
  }
  for (const i of defaults.slice(1)) {
    ctx.problems.push({
      path: ["profiles", i, "default"],
      message: "more than one profile is marked default",
      hint: `profiles[${defaults[0]}] is already the default (line ${ctx.lineOf(["profiles", defaults[0] ?? 0, "default"])}); keep exactly one`,
    });
  }
  profiles.forEach((p, i) => {
    if (p.default === true && (strings(p.groups).length > 0 || strings(p.users).length > 0)) {
      ctx.problems.push({
        path: ["profiles", i, "default"],
        message: "the default profile must be open to everyone",
        hint: "remove its groups and users, or make another profile the default",
      });
    }
    for (const [j, g] of strings(p.groups)) {
      if (!groupNames.includes(g)) {
        ctx.problems.push({
          path: ["profiles", i, "groups", j],
          message: `group "${g}" is not defined in groups`,
          hint: suggestion(g, groupNames, "groups"),
        });
      }
    }
    for (const [j, u] of strings(p.users)) {
      if (!userNames.includes(u)) {
        ctx.problems.push({
          path: ["profiles", i, "users", j],
          message: `user "${u}" is not defined in users`,
          hint: suggestion(u, userNames, "users"),
        });
      }
    }
    const cpuL = p.cpu_limit;
    const cpuG = p.cpu_guarantee;
    if (typeof cpuL === "number" && typeof cpuG === "number" && cpuG > cpuL) {
      ctx.problems.push({
        path: ["profiles", i, "cpu_guarantee"],
        message: `cpu_guarantee ${cpuG} is more than cpu_limit ${cpuL}`,
        hint: "a guarantee must be at most the limit",
      });
    }
    const memL = sizeOf(p.mem_limit);
    const memG = sizeOf(p.mem_guarantee);
    if (memL !== undefined && memG !== undefined && memG > memL) {
      ctx.problems.push({
        path: ["profiles", i, "mem_guarantee"],
        message: `mem_guarantee ${String(p.mem_guarantee)} is more than mem_limit ${String(p.mem_limit)}`,
        hint: "a guarantee must be at most the limit",
      });
    }
  });
}

function sizeOf(v: unknown): number | undefined {
  return typeof v === "string" || typeof v === "number" ? parseSize(v) : undefined;
}

function checkEnvironments(ctx: Ctx, envs: Rec[], userNames: string[], groupNames: string[]): void {
  const seen = new Map<string, number>();
  envs.forEach((e, i) => {
    const ns = str(e.namespace) ?? "global";
    const name = str(e.name);
    if (name !== undefined) {
      const key = `${ns}/${name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.problems.push({
          path: ["environments", i, "name"],
          message: `duplicate environment "${name}" in namespace "${ns}"`,
          hint: `first defined at environments[${first}] (line ${ctx.lineOf(["environments", first, "name"])})`,
        });
      } else seen.set(key, i);
    }
    if (ns !== "global" && !groupNames.includes(ns) && !userNames.includes(ns)) {
      ctx.problems.push({
        path: ["environments", i, "namespace"],
        message: `namespace "${ns}" is neither global nor a group or user`,
        hint: suggestion(ns, ["global", ...groupNames, ...userNames], "namespaces"),
      });
    }
    if (e.file !== undefined) {
      for (const key of ["python", "dependencies", "pip"]) {
        if (e[key] !== undefined) {
          ctx.problems.push({
            path: ["environments", i, key],
            atKey: true,
            message: `"${key}" can't be given together with "file"`,
            hint: "put the packages in the file, or drop file and list them here",
          });
        }
      }
    }
  });
}

function checkAdmins(ctx: Ctx, data: Rec, users: Rec[]): void {
  const auth = isRec(data.auth) ? data.auth : {};
  const password = auth.type === undefined || auth.type === "password";
  if (password && users.length > 0 && !users.some((u) => u.admin === true)) {
    ctx.problems.push({
      path: ["users"],
      atKey: true,
      message: "no user is an admin",
      hint: "add admin: true to at least one user, who gets the first password",
    });
  }
  if (password && users.length === 0 && Array.isArray(data.users)) {
    ctx.problems.push({
      path: ["users"],
      atKey: true,
      message: "password login needs at least one user",
      hint: "add a user with admin: true",
    });
  }
}

function checkDask(ctx: Ctx, dask: unknown): void {
  if (!isRec(dask)) return;
  const limits = isRec(dask.limits) ? dask.limits : {};
  const maxMem = sizeOf(limits.max_memory);
  const maxCores = typeof limits.max_cores === "number" ? limits.max_cores : undefined;
  const profiles = Array.isArray(dask.worker_profiles) ? dask.worker_profiles : [];
  unique(
    ctx,
    profiles.map((p) => (isRec(p) ? p : {})),
    ["dask", "worker_profiles"],
    "name",
    "worker profile name",
  );
  profiles.forEach((p, i) => {
    if (!isRec(p)) return;
    const mem = sizeOf(p.memory);
    if (mem !== undefined && maxMem !== undefined && mem > maxMem) {
      ctx.problems.push({
        path: ["dask", "worker_profiles", i, "memory"],
        message: `a worker's memory ${String(p.memory)} is more than limits.max_memory ${String(limits.max_memory)}`,
        hint: "no user could start such a worker; lower it or raise the limit",
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

function checkPorts(ctx: Ctx, config: Config): void {
  const { target, ssh } = config;
  const used: Array<[ConfigPath, number]> = [
    [["target", "port"], target.port],
    ...Object.entries(target.ports).map(([k, port]) => [["target", "ports", k], port] as [ConfigPath, number]),
  ];
  if (ssh.enabled) used.push([["ssh", "port"], ssh.port]);
  const first = new Map<number, ConfigPath>();
  for (const [path, port] of used) {
    const seen = first.get(port);
    if (seen) {
      ctx.problems.push({
        path,
        message: `port ${port} is also used by ${seen.join(".")}`,
        hint: "give each service its own port",
      });
    } else first.set(port, path);
  }
}
