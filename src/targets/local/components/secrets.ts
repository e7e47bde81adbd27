/** Generate missing secrets once, into root-only files; never print or log them. */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { Component } from "../../../deploy/component.js";
import type { LocalContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import { secretPath, secretSpecs } from "../secrets.js";

export function secretsComponent(ctx: LocalContext): Component {
  const specs = secretSpecs(ctx.platform);
  const files = specs.map((s) => secretPath(ctx.platform, s.name));
  return {
    name: "secrets",
    title: "generated secrets (root-only files)",
    spec: specs.map((s) => ({ name: s.name, kind: s.kind, bytes: s.bytes ?? null })),
    present: () => files.every((f) => existsSync(f)),
    async apply() {
      let made = 0;
      for (const s of specs) {
        const file = secretPath(ctx.platform, s.name);
        if (existsSync(file)) continue;
        const value =
          s.kind === "random"
            ? randomBytes(s.bytes ?? 32).toString("hex")
            : s.kind === "fernet"
              ? randomBytes(32).toString("base64url").concat("=")
              : "{}";
        writeFileAtomic(file, `${value}\n`, 0o600);
        made += 1;
      }
      return { note: made === 0 ? "all present" : `${made} generated` };
    },
  };
}
