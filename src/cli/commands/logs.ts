/** `atrium logs SERVICE [-f] [-n N]`: the end of a supervised process's log, optionally following it. */
import { closeSync, existsSync, openSync, readSync, statSync, watchFile } from "node:fs";
import { AtriumError } from "../../errors.js";
import { renderSupervisor } from "../../targets/local/supervisor-spec.js";
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedPlatform } from "../deployed.js";

function readRange(file: string, from: number, to: number): string {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(to - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "logs",
    args,
    {
      ...DEPLOYED_CONFIG_OPTION,
      follow: { type: "boolean", short: "f", default: false },
      lines: { type: "string", short: "n", default: "50" },
    },
    "SERVICE [-c FILE] [-f] [-n LINES]",
    true,
  );
  if (!parsed) return 0;
  const spec = renderSupervisor(deployedPlatform(parsed.values.config));
  const logs = new Map([
    ...spec.processes.map((p) => [p.name, p.log] as [string, string]),
    ["supervisor", spec.log],
  ]);
  const name = parsed.positionals[0];
  if (!name || !logs.has(name)) {
    throw new AtriumError(
      "usage",
      name ? `no service "${name}"` : "name a service",
      `services: ${[...logs.keys()].join(", ")}`,
    );
  }
  const file = logs.get(name) ?? "";
  if (!existsSync(file))
    throw new AtriumError("not-found", `${file} does not exist yet`, "has the platform been deployed?");
  const lines = Number.parseInt(parsed.values.lines as string, 10) || 50;
  let size = statSync(file).size;
  const start = Math.max(0, size - 256 * 1024);
  const tail = readRange(file, start, size).split("\n");
  process.stdout.write(`${tail.slice(-lines - 1).join("\n")}`);
  if (!parsed.values.follow) {
    process.stdout.write("\n");
    return 0;
  }
  watchFile(file, { interval: 300 }, (cur) => {
    if (cur.size < size) size = 0; // rotated or truncated
    if (cur.size > size) process.stdout.write(readRange(file, size, cur.size));
    size = cur.size;
  });
  await new Promise<never>(() => {});
  return 0;
}
