// Bundles the CLI into dist/bundle (one file per lazily loaded command): startup
// time is dominated by module loading, and `atrium validate` should answer fast.
// The new bundle replaces the old one in one rename, so a running platform that starts
// a process meanwhile never sees half a bundle (chunk names change between builds).
import { renameSync, rmSync } from "node:fs";
import { build } from "esbuild";

const next = `dist/bundle.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
await build({
  entryPoints: ["src/cli/main.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  splitting: true,
  outdir: next,
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
  // ssh2 loads optional native crypto bindings (.node files) at run time; it stays in node_modules.
  external: ["ssh2"],
  // Some dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __atriumRequire } from 'node:module'; const require = __atriumRequire(import.meta.url);",
  },
});
rmSync("dist/bundle.old", { recursive: true, force: true });
try {
  renameSync("dist/bundle", "dist/bundle.old");
} catch {
  // first build
}
renameSync(next, "dist/bundle");

// A service alone in one minified file, for the kubernetes target to ship to its pod as data
// (a ConfigMap), where Node comes from a wheel and nothing else is installed. The new file
// replaces the old one in one rename.
async function bundleService(entry, out, extra = {}) {
  const next = `${out}.next.mjs`;
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    legalComments: "none",
    outfile: next,
    logLevel: "warning",
    banner: {
      // require() for dependencies that call it; __dirname for ssh2, which names its optional native module by it
      js: "import { createRequire as __atriumRequire } from 'node:module'; import { fileURLToPath as __atriumPath } from 'node:url'; const require = __atriumRequire(import.meta.url); const __filename = __atriumPath(import.meta.url); const __dirname = __atriumPath(new URL('.', import.meta.url));",
    },
    ...extra,
  });
  renameSync(next, `${out}.mjs`);
}

await bundleService("src/services/envs/standalone.ts", "dist/envs-service");
// ssh2's optional native bindings are left out: its pure JavaScript crypto serves
await bundleService("src/services/ssh/kube/standalone.ts", "dist/ssh-gateway", {
  external: ["cpu-features", "*.node", "bufferutil", "utf-8-validate"],
});
