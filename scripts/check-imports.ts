/** The test command's import check: prints each violation of the import rule and exits 1 if there is one. */
import { repoPath } from "../src/paths.js";
import { checkImports } from "./import-graph.js";
import { IMPORT_RULE } from "./import-rule.js";

const violations = checkImports(repoPath(), "src", IMPORT_RULE);
for (const v of violations) process.stderr.write(`${v.kind}: ${v.message}\n`);
process.stdout.write(
  violations.length === 0 ? "import rule holds\n" : `${violations.length} import rule violation(s)\n`,
);
process.exitCode = violations.length === 0 ? 0 : 1;
