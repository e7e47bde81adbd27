/**
 * The file this platform was deployed from, copied to <state_dir>/atrium.yaml (root-only)
 * and linked as /etc/atrium/atrium.yaml (see ../machine-links.ts), so `atrium status`,
 * `logs`, `env`, `passwd` and `destroy` find the platform without -c.
 */
import { existsSync, readFileSync } from "node:fs";
import { hashText } from "../../../lib/hash.js";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import {
  deployedCopyPath,
  deployedLinkPath,
  isDeployedFileLink,
  linkIfFree,
  linkSettled,
} from "../machine-links.js";

export function deployedFileComponent(ctx: LocalContext): Component | undefined {
  if (ctx.configFile === undefined) return undefined;
  const text = readFileSync(ctx.configFile, "utf8");
  const copy = deployedCopyPath(ctx.placement);
  const link = deployedLinkPath();
  return {
    name: "deployed-file",
    title: `the deployed file, kept as ${copy} and ${link}`,
    spec: { file: hashText(text), copy, link },
    present: () => existsSync(copy) && linkSettled(link, copy, isDeployedFileLink),
    async apply(_previous, progress) {
      writeFileAtomic(copy, text, 0o600);
      if (linkIfFree(link, copy, isDeployedFileLink) === "taken") {
        progress.important(`${link} is not Atrium's; left it alone (pass -c ${copy} to later commands)`);
        return { note: `${link} left alone` };
      }
      return { note: `${link} -> ${copy}` };
    },
  };
}
