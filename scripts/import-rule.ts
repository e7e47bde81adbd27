/**
 * The import rule of src/: cli -> deploy -> targets -> (contracts, model) -> config,
 * with a shared lib at the bottom and services on contracts and lib only. Each layer
 * may import the layers below it; the CLI reaches targets only through the registry,
 * and deploy reaches them through the registry and the target-neutral seam (the files
 * directly in src/targets/), never a target's own folder. No cycles
 * (scripts/import-graph.ts checks; scripts/check-imports.ts runs it in the test command).
 */
import type { Layer } from "./import-graph.js";

const LIB = ["lib"];
export const IMPORT_RULE: readonly Layer[] = [
  {
    name: "cli",
    paths: ["src/cli/"],
    // services: `atrium service <name>` starts them.
    may: ["deploy", "registry", "model", "contracts", "config", "services", ...LIB],
  },
  {
    name: "deploy",
    paths: ["src/deploy/"],
    may: ["registry", "seam", "model", "contracts", "config", ...LIB],
  },
  {
    name: "registry",
    paths: ["src/targets/registry.ts"],
    may: ["targets", "seam", "model", "config", ...LIB],
  },
  { name: "seam", paths: ["src/targets/*"], may: ["model", "contracts", "config", ...LIB] },
  { name: "targets", paths: ["src/targets/"], may: ["seam", "model", "contracts", "config", ...LIB] },
  { name: "model", paths: ["src/model/"], may: ["config", ...LIB] },
  { name: "contracts", paths: ["src/contracts/"], may: ["config", ...LIB] },
  { name: "config", paths: ["src/config/"], may: LIB },
  { name: "services", paths: ["src/services/"], may: ["contracts", ...LIB] },
  // The shared bottom: src/lib, and the leaf modules every layer uses.
  { name: "lib", paths: ["src/lib/", "src/errors.ts", "src/paths.ts", "src/requirements/"], may: [] },
];
