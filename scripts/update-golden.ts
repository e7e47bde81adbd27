/** Rewrite the golden render of every example (review the diff before committing). */
import { rmSync } from "node:fs";
import { loadConfig } from "../src/config/load.js";
import { derivePlatform } from "../src/model/platform.js";
import { repoPath } from "../src/paths.js";
import { renderTarget } from "../src/targets/index.js";
import { writeArtifacts } from "../src/targets/write.js";
import { EXAMPLES } from "../test/unit/examples.js";

for (const name of EXAMPLES) {
  const dir = repoPath("test", "golden", name);
  rmSync(dir, { recursive: true, force: true });
  writeArtifacts(dir, renderTarget(derivePlatform(loadConfig(repoPath("examples", `${name}.yaml`)))));
  process.stdout.write(`test/golden/${name}\n`);
}
