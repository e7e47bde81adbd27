/**
 * The hub glue (python/atrium_hub), copied into <prefix>/lib/hub-glue-<hash> and
 * reached through the stable link <prefix>/lib/hub-glue that the hub env's .pth file
 * names. It is Atrium's own code, so it is copied rather than built: nothing is
 * downloaded for it, and a change to it restarts the hub without rebuilding the env.
 */
import { cpSync, existsSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { basename, dirname, posix } from "node:path";
import type { Component } from "../../component.js";
import { GLUE_SOURCE, glueHash } from "../../hub-glue-files.js";
import type { LocalContext } from "../context.js";
import { glueLink } from "./python-envs.js";

export function hubGlueComponent(ctx: LocalContext): Component {
  const source = GLUE_SOURCE;
  const hash = glueHash();
  const link = glueLink(ctx.placement);
  const target = `${link}-${hash}`;
  return {
    name: "hub-glue",
    title: "Atrium's hub glue (python/atrium_hub)",
    spec: { hash, link },
    present: () => existsSync(posix.join(link, "atrium_hub", "__init__.py")),
    async apply() {
      if (!existsSync(target)) {
        const tmp = `${target}.tmp-${process.pid}`;
        rmSync(tmp, { recursive: true, force: true });
        cpSync(source, posix.join(tmp, "atrium_hub"), {
          recursive: true,
          filter: (src) => !src.includes("__pycache__"),
        });
        renameSync(tmp, target);
      }
      const tmpLink = `${link}.tmp-${process.pid}`;
      rmSync(tmpLink, { force: true });
      symlinkSync(basename(target), tmpLink);
      renameSync(tmpLink, link);
      for (const name of readdirSync(dirname(link))) {
        const p = posix.join(dirname(link), name);
        if (name.startsWith(`${basename(link)}-`) && p !== target)
          rmSync(p, { recursive: true, force: true });
      }
      return { note: basename(target) };
    },
  };
}
