/** Regenerate the committed JSON Schema of every contract (src/contracts) for the hub glue. */
import { writeFileSync } from "node:fs";
import {
  CONTRACTS,
  type ContractName,
  contractJsonSchemaText,
  contractSchemaFile,
} from "../src/contracts/index.js";
import { repoPath } from "../src/paths.js";

for (const name of Object.keys(CONTRACTS) as ContractName[]) {
  writeFileSync(repoPath(contractSchemaFile(name)), contractJsonSchemaText(name));
}
process.stdout.write(
  `updated ${Object.keys(CONTRACTS).length} contract schemas in python/atrium_hub/contracts/\n`,
);
