/**
 * The local target's components, in the order deploy applies them. The services
 * component comes after the others: its fingerprints cover the components each
 * process uses. Only the prebuilt environments follow it, as the running
 * environment service builds them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { hashOf, hashText } from "../../../lib/hash.js";
import { repoPath } from "../../../paths.js";
import type { Component } from "../../component.js";
import { environmentsComponent } from "../../environments-component.js";
import type { LocalContext } from "../context.js";
import { envCurrent } from "../envs.js";
import { localEnvsClient } from "../envs-client.js";
import { oidcSecretComponent } from "../oidc.js";
import { accountsComponent } from "./accounts.js";
import { adminPasswordComponent } from "./admin-password.js";
import { configFilesComponent } from "./config-files.js";
import { daskClientComponent } from "./dask-client.js";
import { daskFirewallComponent } from "./dask-firewall.js";
import { deployedFileComponent } from "./deployed-file.js";
import { directoriesComponent } from "./directories.js";
import { envsSetupComponent } from "./envs-setup.js";
import { hubGlueComponent } from "./hub-glue.js";
import { launcherComponent } from "./launcher.js";
import { hubEnvComponent, userEnvComponent } from "./python-envs.js";
import { secretsComponent } from "./secrets.js";
import { servicesComponent } from "./services.js";
import { sharedFoldersComponent } from "./shared-folders.js";
import { sshHostKeyComponent } from "./ssh-host-key.js";
import { systemdComponent } from "./systemd.js";
import { tlsComponent } from "./tls.js";
import { uvToolComponent } from "./uv-tool.js";
import { videoChatComponent } from "./videochat.js";

/** Processes running Atrium's own code restart when that code changes. */
function atriumCodeHash(): string {
  const dir = repoPath("dist", "bundle");
  try {
    return hashText(
      readdirSync(dir)
        .sort()
        .map((f) => `${f}:${hashText(readFileSync(posix.join(dir, f)))}`)
        .join("\n"),
    );
  } catch {
    return "unbuilt";
  }
}

export function localComponents(ctx: LocalContext): Component[] {
  const before = [
    directoriesComponent(ctx),
    deployedFileComponent(ctx),
    secretsComponent(ctx),
    oidcSecretComponent(ctx),
    tlsComponent(ctx),
    sshHostKeyComponent(ctx),
    uvToolComponent(ctx),
    hubEnvComponent(ctx),
    hubGlueComponent(ctx),
    userEnvComponent(ctx),
    videoChatComponent(ctx),
    daskClientComponent(ctx),
    daskFirewallComponent(ctx),
    accountsComponent(ctx),
    sharedFoldersComponent(ctx),
    envsSetupComponent(ctx),
    configFilesComponent(ctx),
    launcherComponent(ctx),
    adminPasswordComponent(ctx),
    systemdComponent(ctx),
  ].filter((c): c is Component => c !== undefined);
  const hashes: Record<string, string> = {};
  for (const c of before) hashes[`component:${c.name}`] = hashOf(c.spec);
  for (const [path, content] of ctx.artifacts) hashes[`artifact:${path}`] = hashText(content);
  hashes["atrium:code"] = atriumCodeHash();
  return [
    ...before,
    servicesComponent(ctx, hashes),
    environmentsComponent(ctx.platform.environments, {
      client: () => localEnvsClient(ctx.placement),
      present: (envs) => envs.every((e) => existsSync(envCurrent(ctx.placement, e.namespace, e.name))),
      upWithinMs: 90_000,
    }),
  ];
}
