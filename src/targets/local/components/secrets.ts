/**
 * Generate missing secrets once, into root-only files; never print or log them.
 * A file encrypted with a secret that is made anew (dask-gateway's database after
 * its key was deleted by hand or by an older purge) can never be read again: it is
 * moved aside, or the service would fail on it at every start.
 */
import { existsSync, renameSync } from "node:fs";
import type { Component } from "../../component.js";
import { newSecretValue } from "../../secret-values.js";
import { artifactJson, SECRETS_FILE } from "../artifact-data.js";
import type { LocalContext } from "../context.js";
import { gatewayDbFile } from "../dask-gateway.js";
import { writeFileAtomic } from "../fsutil.js";
import type { SecretSpec } from "../secrets.js";

export function secretsComponent(ctx: LocalContext): Component {
  const specs = artifactJson<Array<SecretSpec & { file: string }>>(ctx.artifacts, SECRETS_FILE);
  const files = specs.map((s) => s.file);
  return {
    name: "secrets",
    title: "generated secrets (root-only files)",
    spec: specs.map((s) => ({ name: s.name, kind: s.kind, bytes: s.bytes ?? null })),
    present: () => files.every((f) => existsSync(f)),
    async apply(_previous, progress) {
      const encrypted: Record<string, string> = { dask_gateway_db_key: gatewayDbFile(ctx.placement) };
      let made = 0;
      for (const s of specs) {
        const { file } = s;
        if (existsSync(file)) continue;
        const value = newSecretValue(s);
        const locked = encrypted[s.name];
        if (locked !== undefined && existsSync(locked)) {
          const aside = `${locked}.unreadable-${Date.now()}`;
          renameSync(locked, aside);
          progress.detail(`${locked} was encrypted with a key that is gone: moved to ${aside}`);
        }
        writeFileAtomic(file, `${value}\n`, 0o600);
        made += 1;
      }
      return { note: made === 0 ? "all present" : `${made} generated` };
    },
  };
}
