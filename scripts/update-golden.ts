/** Rewrite the golden render of every example, local and kubernetes alike (review the diff before committing). */
import { rmSync } from "node:fs";
import { loadConfig } from "../src/config/load.js";
import { writeArtifacts } from "../src/lib/artifact-files.js";
import { repoPath } from "../src/paths.js";
import { targetFor } from "../src/targets/registry.js";
import { EXAMPLES } from "../test/unit/examples.js";

for (const name of EXAMPLES) {
  const dir = repoPath("test", "golden", name);
  rmSync(dir, { recursive: true, force: true });
  const file = repoPath("examples", `${name}.yaml`);
  writeArtifacts(dir, targetFor(loadConfig(file), file).render());
  process.stdout.write(`test/golden/${name}\n`);
}
