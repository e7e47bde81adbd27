/**
 * profiles[].gpus on the local target: the NVIDIA GPU nodes found in a (fake) device
 * folder, and the plan warning and deploy refusal for a profile asking for more GPUs
 * than the machine has.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { validateText } from "../../src/config/load.js";
import { planChanges } from "../../src/deploy/engine.js";
import { AtriumError } from "../../src/errors.js";
import { derivePlatform } from "../../src/model/platform.js";
import { gpuShortfalls, nvidiaGpus } from "../../src/targets/local/gpus.js";
import { checkPrerequisites } from "../../src/targets/local/prerequisites.js";
import { localTarget } from "../../src/targets/local/target.js";

const CONFIG = `project:
  name: gpus
users:
  - name: ada
    admin: true
profiles:
  - name: cpu
    display_name: CPU
    default: true
  - name: gpu
    display_name: GPU
    gpus: 2
`;

function configOf(yaml: string) {
  const r = validateText("atrium.yaml", yaml);
  assert.ok(r.config, JSON.stringify(r.problems));
  return r.config;
}

/** A device folder holding `names` (empty files: only the names matter). */
function devFolder(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "atrium-dev-"));
  for (const n of names) writeFileSync(join(dir, n), "");
  return dir;
}

const NO_GPU = "no NVIDIA GPU";

/** The local target of CONFIG, written to a file, with `dev` as its device folder. */
function targetWith(dev: string) {
  const file = join(mkdtempSync(join(tmpdir(), "atrium-gpus-")), "atrium.yaml");
  writeFileSync(file, CONFIG);
  const target = localTarget(configOf(CONFIG), file);
  target.ctx.devDir = dev;
  return target;
}

describe("GPUs on the local target", () => {
  it("are the nvidia<N> nodes of the device folder, in order", () => {
    const dev = devFolder(
      "nvidia10",
      "nvidia1",
      "nvidiactl",
      "nvidia-uvm",
      "nvidia-modeset",
      "nvidia0",
      "null",
    );
    mkdirSync(join(dev, "nvidia-caps"));
    assert.deepEqual(nvidiaGpus(dev), [0, 1, 10]);
    assert.deepEqual(nvidiaGpus(devFolder("null", "zero")), []);
    assert.deepEqual(nvidiaGpus(join(dev, "missing")), []);
  });

  it("name the profile, what the machine lacks and the fix", () => {
    const platform = derivePlatform(configOf(CONFIG));
    assert.deepEqual(gpuShortfalls(platform, [], "/dev"), [
      'profiles[1].gpus (profile "gpu") asks for 2 GPUs, but this machine has no NVIDIA GPU (no /dev/nvidia0, ...): set profiles[1].gpus to 0, or deploy on a machine with NVIDIA GPUs and their driver loaded',
    ]);
    assert.deepEqual(gpuShortfalls(platform, [3], "/dev"), [
      'profiles[1].gpus (profile "gpu") asks for 2 GPUs, but this machine has only 1 GPU (/dev/nvidia3): set profiles[1].gpus to at most 1',
    ]);
    assert.deepEqual(gpuShortfalls(platform, [0, 1], "/dev"), []);
    assert.deepEqual(
      gpuShortfalls(derivePlatform(configOf(CONFIG.replace("gpus: 2", "gpus: 0"))), [], "/dev"),
      [],
    );
  });

  it("missing: plan warns on the hub config and deploy's preflight refuses", async () => {
    const target = targetWith(devFolder("null"));
    const empty = { version: 1 as const, project: "gpus", components: {} };
    const changes = await planChanges(target.components(), empty);
    const warnings = changes.find((c) => c.component === "config-files")?.warnings ?? [];
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(
      warnings[0] ?? "",
      /^deploy will refuse: profiles\[1\]\.gpus \(profile "gpu"\) asks for 2 GPUs/,
    );
    assert.ok(warnings[0]?.includes(NO_GPU));
    await assert.rejects(
      checkPrerequisites(target.platform, target.ctx.placement, true, target.ctx.devDir),
      (err: unknown) =>
        err instanceof AtriumError &&
        err.code === "prerequisite" &&
        err.message.includes(
          `profiles[1].gpus (profile "gpu") asks for 2 GPUs, but this machine has ${NO_GPU}`,
        ),
    );
  });

  it("present: no warning and no GPU problem in the preflight", async () => {
    const target = targetWith(devFolder("nvidia0", "nvidia1", "nvidiactl"));
    const empty = { version: 1 as const, project: "gpus", components: {} };
    const changes = await planChanges(target.components(), empty);
    assert.equal(changes.find((c) => c.component === "config-files")?.warnings, undefined);
    try {
      await checkPrerequisites(target.platform, target.ctx.placement, true, target.ctx.devDir);
    } catch (err) {
      // other prerequisites may be missing here; the GPUs are not among them
      assert.ok(err instanceof AtriumError && !err.message.includes("gpus"), String(err));
    }
  });
});
