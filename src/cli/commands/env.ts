/**
 * `atrium env list|create|build|logs|rollback`: managed environments from the
 * command line, through the environment service with Atrium's admin token (so as
 * root), acting for `--user` when given and as an admin otherwise.
 */
import { readFileSync } from "node:fs";
import type { ApiBuild, ApiEnvironment } from "../../contracts/envs-api.js";
import { AtriumError } from "../../errors.js";
import type { EnvsApi } from "../../targets/registry.js";
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedTarget } from "../deployed.js";

const USAGE = `list [--namespace NS] [--json]
       atrium env create [NS/]NAME (-f FILE | PACKAGE...) [--no-wait]
       atrium env build [NS/]NAME [--no-wait]
       atrium env logs [NS/]NAME|BUILD_ID [--follow]
       atrium env rollback [NS/]NAME [--to BUILD_ID]
  options for all: [-c FILE] [--user USER]   (NAME alone: USER's namespace, or global)`;

const OPTIONS = {
  ...DEPLOYED_CONFIG_OPTION,
  user: { type: "string", short: "u" },
  namespace: { type: "string", short: "n" },
  file: { type: "string", short: "f" },
  to: { type: "string" },
  json: { type: "boolean", default: false },
  follow: { type: "boolean", default: false },
  "no-wait": { type: "boolean", default: false },
} as const;

const out = (s: string) => process.stdout.write(`${s}\n`);

function envPath(arg: string | undefined, user: string | undefined): { ns: string; name: string } {
  if (!arg) throw new AtriumError("usage", "name an environment", `usage: atrium env ${USAGE}`);
  const i = arg.indexOf("/");
  if (i >= 0) return { ns: arg.slice(0, i), name: arg.slice(i + 1) };
  return { ns: user ?? "global", name: arg };
}

const enc = (ns: string, name: string) => `${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

async function follow(client: EnvsApi, build: ApiBuild, wait: boolean): Promise<number> {
  out(`build ${build.id} of ${build.namespace}/${build.environment}: ${build.status.toLowerCase()}`);
  if (!wait) return 0;
  const done = await client.follow(build.id, (text) => process.stdout.write(text));
  if (done.status === "COMPLETED") {
    out(`build ${done.id} completed${done.current ? " and is current" : ""}`);
    return 0;
  }
  out(`build ${done.id} ${done.status.toLowerCase()}: ${done.status_info ?? ""}`);
  return 1;
}

async function list(client: EnvsApi, namespace: string | undefined, json: boolean): Promise<number> {
  const q = namespace ? `&namespace=${encodeURIComponent(namespace)}` : "";
  const envs = await client.json<ApiEnvironment[]>("GET", `environment/?size=1000${q}`);
  if (json) {
    out(JSON.stringify(envs, null, 2));
    return 0;
  }
  if (envs.length === 0) {
    out("no environments");
    return 0;
  }
  out(`${"ENVIRONMENT".padEnd(32)} ${"LATEST BUILD".padEnd(22)} ${"CURRENT".padEnd(8)} KERNEL`);
  for (const e of envs) {
    const latest = e.latest_build ? `${e.latest_build.id} ${e.latest_build.status.toLowerCase()}` : "-";
    out(
      `${`${e.namespace.name}/${e.name}`.padEnd(32)} ${latest.padEnd(22)} ${String(e.current_build_id ?? "-").padEnd(8)} ${e.kernel}`,
    );
  }
  return 0;
}

async function rollback(client: EnvsApi, ns: string, name: string, to: string | undefined): Promise<number> {
  const env = await client.json<ApiEnvironment>("GET", `environment/${enc(ns, name)}/`);
  let target: number | undefined = to === undefined ? undefined : Number(to);
  if (to !== undefined && !Number.isSafeInteger(target))
    throw new AtriumError("usage", `--to ${to} is not a build number`);
  if (target === undefined) {
    const builds = await client.json<ApiBuild[]>("GET", `build/?size=1000&environment_id=${env.id}`);
    const current = env.current_build_id ?? Number.POSITIVE_INFINITY;
    target = builds
      .filter((b) => b.status === "COMPLETED" && b.id < current)
      .map((b) => b.id)
      .sort((a, b) => b - a)[0];
    if (target === undefined) {
      throw new AtriumError(
        "not-found",
        `${ns}/${name} has no completed build before build ${env.current_build_id ?? "(none)"}`,
        "atrium env logs shows the builds' logs; --to BUILD_ID picks one",
      );
    }
  }
  await client.json("PUT", `environment/${enc(ns, name)}/`, { build_id: target });
  out(`${ns}/${name}: current is now build ${target} (was ${env.current_build_id ?? "none"})`);
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("env", args, OPTIONS, USAGE, true);
  if (!parsed) return 0;
  const [verb, target, ...rest] = parsed.positionals;
  const v = parsed.values;
  const user = v.user as string | undefined;
  const deployed = deployedTarget(v.config);
  if (!deployed.envs)
    throw new AtriumError("not-supported", `the ${deployed.type} target runs no environment service`);
  const client = deployed.envs(user);
  const wait = !v["no-wait"];
  switch (verb) {
    case "list":
      return list(client, v.namespace as string | undefined, Boolean(v.json));
    case "create": {
      const { ns, name } = envPath(target, user);
      const file = v.file as string | undefined;
      if (!file && rest.length === 0) {
        throw new AtriumError(
          "usage",
          "give -f FILE (environment.yaml or requirements) or packages",
          `usage: atrium env ${USAGE}`,
        );
      }
      let specification: string;
      try {
        specification = file ? readFileSync(file, "utf8") : `${rest.join("\n")}\n`;
      } catch {
        throw new AtriumError("file-not-found", `can't read ${file}`);
      }
      const r = await client.json<{ build: ApiBuild }>("POST", "specification/", {
        namespace: ns,
        environment_name: name,
        specification,
      });
      return follow(client, r.build, wait);
    }
    case "build": {
      const { ns, name } = envPath(target, user);
      const env = await client.json<ApiEnvironment>("GET", `environment/${enc(ns, name)}/`);
      const from = env.latest_build ?? env.current_build;
      if (!from) throw new AtriumError("not-found", `${ns}/${name} has no build to repeat`);
      const r = await client.json<{ build: ApiBuild }>("PUT", `build/${from.id}/`);
      return follow(client, r.build, wait);
    }
    case "logs": {
      let id = Number(target);
      if (!Number.isSafeInteger(id) || id <= 0) {
        const { ns, name } = envPath(target, user);
        const env = await client.json<ApiEnvironment>("GET", `environment/${enc(ns, name)}/`);
        if (!env.latest_build) throw new AtriumError("not-found", `${ns}/${name} has no builds`);
        id = env.latest_build.id;
      }
      if (v.follow) {
        const done = await client.follow(id, (text) => process.stdout.write(text));
        return done.status === "COMPLETED" ? 0 : 1;
      }
      process.stdout.write(await client.text(`build/${id}/logs/`));
      return 0;
    }
    case "rollback": {
      const { ns, name } = envPath(target, user);
      return rollback(client, ns, name, v.to as string | undefined);
    }
    default:
      throw new AtriumError(
        "usage",
        verb ? `unknown env command "${verb}"` : "name an env command",
        `usage: atrium env ${USAGE}`,
      );
  }
}
