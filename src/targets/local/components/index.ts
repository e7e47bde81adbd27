/**
 * The local target's components, in the order deploy applies them. The services
 * component comes last: its fingerprints cover the components each process uses.
 */
import type { Component } from "../../../deploy/component.js";
import { hashOf, hashText } from "../../../deploy/hash.js";
import type { LocalContext } from "../context.js";
import { accountsComponent } from "./accounts.js";
import { adminPasswordComponent } from "./admin-password.js";
import { configFilesComponent } from "./config-files.js";
import { directoriesComponent } from "./directories.js";
import { hubGlueComponent } from "./hub-glue.js";
import { launcherComponent } from "./launcher.js";
import { hubEnvComponent, userEnvComponent } from "./python-envs.js";
import { secretsComponent } from "./secrets.js";
import { servicesComponent } from "./services.js";
import { sharedFoldersComponent } from "./shared-folders.js";
import { systemdComponent } from "./systemd.js";
import { tlsComponent } from "./tls.js";

export function localComponents(ctx: LocalContext): Component[] {
  const before = [
    directoriesComponent(ctx),
    secretsComponent(ctx),
    tlsComponent(ctx),
    hubEnvComponent(ctx),
    hubGlueComponent(ctx),
    userEnvComponent(ctx),
    accountsComponent(ctx),
    sharedFoldersComponent(ctx),
    configFilesComponent(ctx),
    launcherComponent(ctx),
    adminPasswordComponent(ctx),
    systemdComponent(ctx),
  ].filter((c): c is Component => c !== undefined);
  const hashes: Record<string, string> = {};
  for (const c of before) hashes[`component:${c.name}`] = hashOf(c.spec);
  for (const [path, content] of ctx.artifacts) hashes[`artifact:${path}`] = hashText(content);
  return [...before, servicesComponent(ctx, hashes)];
}
