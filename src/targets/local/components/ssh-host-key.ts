/**
 * The SSH gateway's host key: an ed25519 key in OpenSSH's private key format,
 * generated once into a root-only (0600) file and kept, so clients see the same
 * host key across deploys and restarts. The key is never printed or logged; the
 * note shows only its public fingerprint, which clients can compare.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { generateEd25519 } from "../../../lib/openssh-key.js";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import { secretPath } from "../secrets.js";
import { SSH_HOST_KEY } from "../ssh-config.js";

/** `SHA256:...` of an OpenSSH public key line, as `ssh-keygen -l` prints it. */
export function fingerprint(publicLine: string): string {
  const blob = Buffer.from(publicLine.trim().split(/\s+/)[1] ?? "", "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

export function sshHostKeyComponent(ctx: LocalContext): Component | undefined {
  const { platform, placement } = ctx;
  if (!platform.ssh.enabled) return undefined;
  const file = secretPath(placement, SSH_HOST_KEY);
  return {
    name: "ssh-host-key",
    title: "SSH gateway host key (root-only file)",
    spec: { file, type: "ed25519" },
    present: () => existsSync(file) && existsSync(`${file}.pub`),
    async apply() {
      if (existsSync(file) && existsSync(`${file}.pub`)) {
        return { note: `kept ${fingerprint(readFileSync(`${file}.pub`, "utf8"))}` };
      }
      const pair = generateEd25519(`atrium-${platform.project.name}`);
      writeFileAtomic(file, pair.private, 0o600);
      writeFileAtomic(`${file}.pub`, `${pair.public}\n`, 0o644);
      return { note: `generated ${fingerprint(pair.public)}` };
    },
  };
}
