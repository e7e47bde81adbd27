/** The rendered config files under <prefix>/etc: what the hub and supervisor read. */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { Component } from "../../../deploy/component.js";
import { hashText } from "../../../deploy/hash.js";
import { writeArtifacts } from "../../write.js";
import type { LocalContext } from "../context.js";

export function configFilesComponent(ctx: LocalContext): Component {
  const { artifacts, platform } = ctx;
  const spec = Object.fromEntries([...artifacts].map(([path, content]) => [path, hashText(content)]));
  return {
    name: "config-files",
    title: `rendered config in ${platform.paths.etcDir}`,
    spec,
    present: () => [...artifacts.keys()].every((p) => existsSync(posix.join(platform.paths.etcDir, p))),
    async apply() {
      const changed = writeArtifacts(platform.paths.etcDir, artifacts);
      return { note: changed.length === 0 ? "unchanged" : `${changed.length} written` };
    },
  };
}
