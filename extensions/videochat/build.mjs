// Packs lib/ (compiled by tsc) into labextension/, the prebuilt JupyterLab extension
// that deploy copies into the user env. Uses the same builder as JupyterLab 4.6
// (@jupyter/builder) against @jupyterlab/core-meta, the npm snapshot of JupyterLab's
// core package.json, so no Python is needed at build time. Core packages are shared
// with JupyterLab, never bundled: the output is a few kilobytes.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const builder = require.resolve("@jupyter/builder/lib/build-labextension.js");
const core = require.resolve("@jupyterlab/core-meta/core.package.json");

const r = spawnSync(process.execPath, [builder, "--core-package-file", core, here], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "pipe"],
});
if (r.status !== 0) {
  process.stderr.write(`${r.stdout}${r.stderr}`);
  console.error(`build-labextension failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
