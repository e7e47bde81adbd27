/** The supervised processes' log files: which there are, and the end of one, optionally followed. */
import { closeSync, existsSync, openSync, readSync, statSync, watchFile } from "node:fs";
import { AtriumError } from "../../errors.js";
import type { Platform } from "../../model/platform.js";
import type { LogOptions } from "../target.js";
import type { LocalPlacement } from "./placement.js";
import { renderSupervisor } from "./supervisor-spec.js";

/** Process name -> its log file, and the supervisor's own. */
export function logFiles(platform: Platform, placement: LocalPlacement): Map<string, string> {
  const spec = renderSupervisor(platform, placement);
  return new Map([
    ...spec.processes.map((p) => [p.name, p.log] as [string, string]),
    ["supervisor", spec.log],
  ]);
}

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

export async function showLog(
  platform: Platform,
  placement: LocalPlacement,
  name: string,
  options: LogOptions,
): Promise<void> {
  const file = logFiles(platform, placement).get(name) ?? "";
  if (!existsSync(file))
    throw new AtriumError("not-found", `${file} does not exist yet`, "has the platform been deployed?");
  let size = statSync(file).size;
  const start = Math.max(0, size - 256 * 1024);
  const tail = readRange(file, start, size).split("\n");
  options.write(`${tail.slice(-options.lines - 1).join("\n")}`);
  if (!options.follow) {
    options.write("\n");
    return;
  }
  watchFile(file, { interval: 300 }, (cur) => {
    if (cur.size < size) size = 0; // rotated or truncated
    if (cur.size > size) options.write(readRange(file, size, cur.size));
    size = cur.size;
  });
  await new Promise<never>(() => {});
}
