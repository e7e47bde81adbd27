/** HTTPS material: a self-signed certificate generated once and kept, or the given files checked. */
import { chmodSync, existsSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { AtriumError } from "../../../errors.js";
import type { Component } from "../../component.js";
import { selfSignedCertArgs } from "../../self-signed-cert.js";
import type { LocalContext } from "../context.js";
import { run } from "../exec.js";
import { ensureDir } from "../fsutil.js";
import { tlsFiles } from "../supervisor-spec.js";

export function tlsComponent(ctx: LocalContext): Component | undefined {
  const { https } = ctx.placement.network;
  if (https.mode === "none") return undefined;
  const files = tlsFiles(ctx.placement);
  return {
    name: "tls",
    title: https.mode === "manual" ? "HTTPS certificate (given)" : "HTTPS certificate (self-signed)",
    spec: { mode: https.mode, ...files },
    present: () => existsSync(files.cert) && existsSync(files.key),
    async apply() {
      if (https.mode === "manual") {
        for (const f of [files.cert, files.key]) {
          if (!existsSync(f)) {
            throw new AtriumError("prerequisite", `${f} does not exist`, "fix target.https.cert / key");
          }
        }
        return { note: "using the given files" };
      }
      if (existsSync(files.cert) && existsSync(files.key)) return { note: "kept the existing certificate" };
      ensureDir(dirname(files.key), 0o700);
      const host = hostname();
      await run("openssl", selfSignedCertArgs(host, files.key, files.cert));
      chmodSync(files.key, 0o600);
      return { note: `generated for ${host}` };
    },
  };
}
