/**
 * Rules that relate several fields: uniqueness, references between sections,
 * guarantees within limits. They read the raw YAML data defensively, so they
 * run even where the schema found other mistakes, and every problem is reported
 * in the same run; a value the schema rejected is left to the schema's message.
 */
import { parseCondaDependency, parsePipEntry } from "../requirements/conda.js";
import type { ParsedRequirement } from "../requirements/pep508.js";
import type { UnlocatedProblem } from "./problem.js";
import {
  allRecords,
  type Ctx,
  isRec,
  list,
  type Rec,
  type RuleContext,
  str,
  strings,
  unique,
} from "./rules-common.js";
import { checkKubernetes } from "./rules-kubernetes.js";
import { checkAuth, checkDask, checkPorts, checkTarget } from "./rules-platform.js";
import { suggestion } from "./suggest.js";
import { quote } from "./text.js";
import { parseSize } from "./units.js";

export type { RuleContext } from "./rules-common.js";

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

function reserved(ctx: Ctx, items: Rec[], section: string, what: "user" | "group"): void {
  items.forEach((item, i) => {
    const name = str(item.name);
    if (name !== undefined && RESERVED_NAMES.has(name)) {
      ctx.problems.push({
        path: [section, i, "name"],
        message: `"${name}" is a system ${what} name and can't be used`,
        hint:
          what === "user"
            ? `choose another name, e.g. "${name}1" or a person's name`
            : `choose another name, e.g. "${name}-team"`,
      });
    }
  });
}

/** Hint for a name that should be defined in a section: the closest, the known ones, or that there are none. */
function refHint(name: string, known: string[], section: string): string {
  return known.length === 0
    ? `no ${section} are defined; add a ${section} section`
    : suggestion(name, known, section);
}

/** All cross-field problems of the raw data; they run whatever else the schema found. */
export function checkRules(data: unknown, context: RuleContext): UnlocatedProblem[] {
  const ctx: Ctx = { ...context, problems: [] };
  if (!isRec(data)) return ctx.problems;
  const users = list(data, "users");
  const groups = list(data, "groups");
  const profiles = list(data, "profiles");
  const environments = list(data, "environments");
  const userNames = users.flatMap((u) => str(u.name) ?? []);
  const groupNames = groups.flatMap((g) => str(g.name) ?? []);

  checkTarget(ctx, data.target);
  checkAuth(ctx, data.auth);
  unique(ctx, users, ["users"], "name", "user name", "string");
  unique(ctx, users, ["users"], "uid", "uid", "number");
  unique(ctx, groups, ["groups"], "name", "group name", "string");
  unique(ctx, groups, ["groups"], "gid", "gid", "number");
  unique(ctx, profiles, ["profiles"], "name", "profile name", "string");
  reserved(ctx, users, "users", "user");
  reserved(ctx, groups, "groups", "group");

  users.forEach((u, i) => {
    for (const [j, g] of strings(u.groups)) {
      if (!groupNames.includes(g)) {
        ctx.problems.push({
          path: ["users", i, "groups", j],
          message: `group ${quote(g)} is not defined in groups`,
          hint: refHint(g, groupNames, "groups"),
        });
      }
    }
  });

  checkProfiles(ctx, data.profiles, profiles, userNames, groupNames);
  checkEnvironments(ctx, environments, userNames, groupNames);
  checkAdmins(ctx, data, users);
  checkDask(ctx, data.dask);
  checkPorts(ctx, data);
  checkKubernetes(ctx, data);
  return ctx.problems;
}

function checkProfiles(
  ctx: Ctx,
  raw: unknown,
  profiles: Rec[],
  userNames: string[],
  groupNames: string[],
): void {
  const defaults = profiles.flatMap((p, i) => (p.default === true ? [i] : []));
  // A profile that is not a mapping, or whose default is not true/false, was reported
  // already; whether one is the default can't be told then.
  const countable =
    allRecords(raw) && profiles.every((p) => p.default === undefined || typeof p.default === "boolean");
  if (countable && profiles.length > 0 && defaults.length === 0) {
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
          message: `group ${quote(g)} is not defined in groups`,
          hint: refHint(g, groupNames, "groups"),
        });
      }
    }
    for (const [j, u] of strings(p.users)) {
      if (!userNames.includes(u)) {
        ctx.problems.push({
          path: ["profiles", i, "users", j],
          message: `user ${quote(u)} is not defined in users`,
          hint: refHint(u, userNames, "users"),
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
        message: `mem_guarantee ${quote(p.mem_guarantee)} is more than mem_limit ${quote(p.mem_limit)}`,
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
    // A namespace the schema rejected (not text, or not written like a name) is reported there.
    if (
      e.namespace !== undefined &&
      (typeof e.namespace !== "string" || ctx.failed(["environments", i, "namespace"]))
    ) {
      return;
    }
    const ns = str(e.namespace) ?? "global";
    const name = str(e.name);
    if (name !== undefined) {
      const key = `${ns}/${name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.problems.push({
          path: ["environments", i, "name"],
          message: `duplicate environment ${quote(name)} in namespace ${quote(ns)}`,
          hint: `first defined at environments[${first}] (line ${ctx.lineOf(["environments", first, "name"])})`,
        });
      } else seen.set(key, i);
    }
    if (ns !== "global" && !groupNames.includes(ns) && !userNames.includes(ns)) {
      ctx.problems.push({
        path: ["environments", i, "namespace"],
        message: `namespace ${quote(ns)} is neither global nor a group or user`,
        hint: suggestion(ns, ["global", ...groupNames, ...userNames], "namespaces"),
      });
    }
    checkRequirements(ctx, ["environments", i, "dependencies"], e.dependencies, (d) =>
      parseCondaDependency(d, []),
    );
    checkRequirements(ctx, ["environments", i, "pip"], e.pip, parsePipEntry);
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

/** Each entry is exactly one requirement (src/requirements/); the schema reports non-text entries. */
function checkRequirements(
  ctx: Ctx,
  path: Array<string | number>,
  value: unknown,
  parse: (entry: string) => ParsedRequirement,
): void {
  for (const [j, entry] of strings(value)) {
    if (ctx.failed([...path, j])) continue;
    const parsed = parse(entry);
    if ("problem" in parsed) ctx.problems.push({ path: [...path, j], ...parsed.problem });
  }
}

function checkAdmins(ctx: Ctx, data: Rec, users: Rec[]): void {
  const auth = isRec(data.auth) ? data.auth : {};
  const password = auth.type === undefined || auth.type === "password";
  if (!password) return;
  // Whether anyone is an admin can't be told while a user or an admin flag is malformed.
  const countable =
    allRecords(data.users) && users.every((u) => u.admin === undefined || typeof u.admin === "boolean");
  if (countable && users.length > 0 && !users.some((u) => u.admin === true)) {
    ctx.problems.push({
      path: ["users"],
      atKey: true,
      message: "no user is an admin",
      hint: "add admin: true to at least one user, who gets the first password",
    });
  }
  if (users.length === 0 && Array.isArray(data.users)) {
    ctx.problems.push({
      path: ["users"],
      atKey: true,
      message: "password login needs at least one user",
      hint: "add a user with admin: true",
    });
  }
}
