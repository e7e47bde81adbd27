/** The Video Chat extension on the kubernetes target: archived at deploy, unpacked into the user env by the hub's init container. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readEnvSources } from "../../src/targets/kubernetes/env-sources.js";
import type { KubeObject } from "../../src/targets/kubernetes/objects.js";
import { renderKubernetes } from "../../src/targets/kubernetes/render.js";
import { VIDEOCHAT_EXTENSION_DIR } from "../../src/targets/kubernetes/videochat-install.js";
import { videoChatBuilt } from "../../src/targets/videochat-build.js";
import { type Kube, TEST_SOURCES_HASHES, teamKube } from "./k8s-of.js";

const initScript = (k: Kube): string => {
  const hub = renderKubernetes(k.platform, k.block, k.identities, TEST_SOURCES_HASHES).objects.find(
    (o) => o.object.kind === "Deployment" && o.object.metadata.name === "hub",
  )?.object as KubeObject & {
    spec: { template: { spec: { initContainers: Array<{ name: string; command: string[] }> } } };
  };
  const init = hub.spec.template.spec.initContainers.find((c) => c.name === "python-envs");
  return init?.command.at(-1) ?? "";
};

const listing = (tar: Buffer): string[] => {
  const dir = mkdtempSync(join(tmpdir(), "atrium-unit-videochat-"));
  try {
    writeFileSync(join(dir, "x.tar.gz"), tar);
    return execFileSync("tar", ["-tzf", join(dir, "x.tar.gz")], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe("video chat on kubernetes", () => {
  it("unpacks the extension beside the old one and renames it into the user env", () => {
    const script = initScript(teamKube());
    assert.match(
      script,
      new RegExp(`tar -xzf \\S+/videochat-labextension\\.tar\\.gz -C ${VIDEOCHAT_EXTENSION_DIR}\\.new`),
    );
    assert.match(script, new RegExp(`mv ${VIDEOCHAT_EXTENSION_DIR}\\.new ${VIDEOCHAT_EXTENSION_DIR}`));
    assert.equal(
      VIDEOCHAT_EXTENSION_DIR,
      "/opt/atrium/envs/user/share/jupyter/labextensions/@atrium/videochat",
    );
  });

  it("removes it when video chat is off", () => {
    const script = initScript(
      teamKube((t) => t.replace("videochat:\n  enabled: true", "videochat:\n  enabled: false")),
    );
    assert.match(script, new RegExp(`^rm -rf ${VIDEOCHAT_EXTENSION_DIR} `, "m"));
    assert.doesNotMatch(script, /videochat-labextension\.tar\.gz/);
  });

  it("archives the built extension (package.json and its static files), and nothing when off", (t) => {
    if (!videoChatBuilt()) return t.skip("the extension is not built (npm run build builds it)");
    const on = listing(readEnvSources(true).videochat);
    assert.ok(on.includes("package.json"), on.join(", "));
    assert.ok(
      on.some((f) => /^static\/remoteEntry\.[0-9a-f]+\.js$/.test(f)),
      on.join(", "),
    );
    assert.deepEqual(listing(readEnvSources(false).videochat), []);
    assert.notEqual(
      readEnvSources(true).hash,
      readEnvSources(false).hash,
      "turning it on does not restart the hub",
    );
  });
});
