import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { compareArtifacts, writeArtifacts } from "../../src/lib/artifact-files.js";
import { repoPath } from "../../src/paths.js";
import { targetFor } from "../../src/targets/registry.js";
import { EXAMPLES } from "./examples.js";

const render = (name: string) =>
  targetFor(loadConfig(repoPath("examples", `${name}.yaml`)), repoPath("examples", `${name}.yaml`)).render();

describe("render of each example", () => {
  for (const name of EXAMPLES) {
    it(`${name} matches its golden files (npm run golden rewrites them)`, () => {
      const drift = compareArtifacts(repoPath("test", "golden", name), render(name));
      assert.deepEqual(drift, { changed: [], missing: [], extra: [] });
    });
  }

  it("renders byte-identical output twice", () => {
    assert.deepEqual([...render("team")], [...render("team")]);
  });

  it("never renders a secret value, only secret file paths", () => {
    const all = [...render("team").values()].join("\n");
    assert.match(all, /\/var\/lib\/atrium\/secrets\/proxy_auth_token/);
    assert.doesNotMatch(all, /[0-9a-f]{64}/);
  });

  it("--check finds a changed, a missing and an extra file", () => {
    const dir = mkdtempSync(join(tmpdir(), "atrium-render-"));
    try {
      const artifacts = render("quickstart");
      writeArtifacts(dir, artifacts);
      writeFileSync(join(dir, "accounts.json"), "{}\n");
      rmSync(join(dir, "supervisor.json"));
      writeFileSync(join(dir, "stray.txt"), "x");
      assert.deepEqual(compareArtifacts(dir, artifacts), {
        changed: ["accounts.json"],
        missing: ["supervisor.json"],
        extra: ["stray.txt"],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists only the profiles of the file, and a fallback profile when there are none", () => {
    const hub = JSON.parse(render("quickstart").get("hub/atrium_hub.json") ?? "{}") as {
      profiles: Array<{ name: string; default: boolean }>;
    };
    assert.deepEqual(
      hub.profiles.map((p) => [p.name, p.default]),
      [["default", true]],
    );
  });
});
