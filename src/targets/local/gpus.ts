/**
 * GPUs on this machine: the NVIDIA device nodes (/dev/nvidia0, /dev/nvidia1, ...) and
 * the profiles that ask for more of them than there are. Plan warns with these lines
 * and deploy refuses with them (prerequisites.ts), so a profile's `gpus` is never
 * accepted and then ignored. The device folder is a parameter, for tests.
 */
import { readdirSync } from "node:fs";
import type { Platform } from "../../model/platform.js";

export const DEV_DIR = "/dev";

const GPU_NODE = /^nvidia(\d+)$/;

/** The indexes of the NVIDIA GPU nodes in `devDir`, in order (not nvidiactl, nvidia-uvm, ...). */
export function nvidiaGpus(devDir: string = DEV_DIR): number[] {
  let names: string[];
  try {
    names = readdirSync(devDir);
  } catch {
    return [];
  }
  return names
    .map((n) => GPU_NODE.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function gpuCount(n: number): string {
  return n === 1 ? "1 GPU" : `${n} GPUs`;
}

/** One line per profile asking for more GPUs than `gpus` (this machine's), with its fix. */
export function gpuShortfalls(platform: Platform, gpus: readonly number[], devDir = DEV_DIR): string[] {
  return platform.profiles.flatMap((p, i) => {
    if (p.gpus <= gpus.length) return [];
    const key = `profiles[${i}].gpus`;
    const asks = `${key} (profile "${p.name}") asks for ${gpuCount(p.gpus)}`;
    if (gpus.length === 0)
      return [
        `${asks}, but this machine has no NVIDIA GPU (no ${devDir}/nvidia0, ...): set ${key} to 0, or deploy on a machine with NVIDIA GPUs and their driver loaded`,
      ];
    const nodes = gpus.map((g) => `${devDir}/nvidia${g}`).join(", ");
    return [
      `${asks}, but this machine has only ${gpuCount(gpus.length)} (${nodes}): set ${key} to at most ${gpus.length}`,
    ];
  });
}

/** The shortfalls of `platform` on the machine whose device folder is `devDir`. */
export function machineGpuShortfalls(platform: Platform, devDir: string = DEV_DIR): string[] {
  return gpuShortfalls(platform, nvidiaGpus(devDir), devDir);
}
