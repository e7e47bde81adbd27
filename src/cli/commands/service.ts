/**
 * `atrium service <name> --config FILE`: run one of Atrium's own long-running
 * services in the foreground (the supervisor starts them). Each service lives in
 * src/services/<name>/ and reads its rendered JSON config.
 */
import { AtriumError } from "../../errors.js";
import { parseCommandArgs } from "../args.js";

type ServiceMain = (configFile: string) => Promise<void>;

/** One line per service: its name and where its `main` is. */
const SERVICES: Record<string, () => Promise<{ main: ServiceMain }>> = {
  ssh: () => import("../../services/ssh/main.js"),
  "dask-auth": () => import("../../services/dask-auth/main.js"),
  envs: () => import("../../services/envs/main.js"),
};

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "service",
    args,
    { config: { type: "string" } },
    "NAME --config FILE",
    true,
  );
  if (!parsed) return 0;
  const name = parsed.positionals[0];
  const load = name ? SERVICES[name] : undefined;
  if (!name || !load) {
    throw new AtriumError(
      "usage",
      name ? `no service "${name}"` : "name a service",
      `services: ${Object.keys(SERVICES).join(", ") || "(none yet)"}`,
    );
  }
  const config = parsed.values.config as string | undefined;
  if (!config)
    throw new AtriumError("usage", "--config is required", "usage: atrium service NAME --config FILE");
  const mod = await load();
  await mod.main(config);
  return 0;
}
