/**
 * What must hold before deploy changes anything: root, a supported OS, the system
 * Python (>= 3.10 with venv), the account and ACL tools, free ports, and the NVIDIA
 * GPUs the profiles ask for (gpus.ts). All problems
 * are gathered into one message.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { AtriumError } from "../../errors.js";
import type { Platform } from "../../model/platform.js";
import { videoChatBuilt } from "../videochat-build.js";
import { tryRun } from "./exec.js";
import { DEV_DIR, machineGpuShortfalls } from "./gpus.js";
import type { LocalPlacement } from "./placement.js";
import { SFTP_SERVER_CANDIDATES } from "./ssh-config.js";
import { SYSTEM_PYTHON } from "./uv.js";

const TOOLS: Array<[string, string]> = [
  ["useradd", "passwd"],
  ["gpasswd", "passwd"],
  ["setfacl", "acl"],
  ["openssl", "openssl"],
  ["getent", "libc-bin"],
];

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export function osRelease(): Record<string, string> {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return Object.fromEntries(
      text
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => {
          const i = l.indexOf("=");
          return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, "")];
        }),
    );
  } catch {
    return {};
  }
}

export async function checkPrerequisites(
  platform: Platform,
  placement: LocalPlacement,
  ownPortsInUse: boolean,
  devDir: string = DEV_DIR,
): Promise<void> {
  const problems: string[] = machineGpuShortfalls(platform, devDir);
  const packages = new Set<string>();
  if (process.getuid?.() !== 0) problems.push("deploy must run as root (sudo atrium deploy ...)");
  const os = osRelease();
  const like = `${os.ID ?? ""} ${os.ID_LIKE ?? ""}`;
  if (!/\b(debian|ubuntu)\b/.test(like)) {
    problems.push(
      `unsupported OS "${os.PRETTY_NAME ?? "unknown"}": the local target needs Debian 12 or Ubuntu 22.04+`,
    );
  }
  if (!existsSync(SYSTEM_PYTHON)) {
    problems.push(`no system Python at ${SYSTEM_PYTHON}`);
    packages.add("python3");
  } else {
    const version = await tryRun(SYSTEM_PYTHON, [
      "-c",
      "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])",
    ]);
    const [major, minor] = (version ?? "0.0").trim().split(".").map(Number);
    if (version === undefined) {
      problems.push(`${SYSTEM_PYTHON} lacks the venv module`);
      packages.add("python3-venv");
    } else if ((major ?? 0) < 3 || (minor ?? 0) < 10) {
      problems.push(`${SYSTEM_PYTHON} is Python ${version.trim()}; Atrium needs 3.10 or newer`);
    }
  }
  for (const [tool, pkg] of TOOLS) {
    if ((await tryRun("sh", ["-c", `command -v ${tool}`])) === undefined) {
      problems.push(`${tool} is missing`);
      packages.add(pkg);
    }
  }
  if (platform.dask.enabled && (await tryRun("sh", ["-c", "command -v nft"])) === undefined) {
    problems.push("nft is missing (it keeps dask-gateway's web proxy for root only)");
    packages.add("nftables");
  }
  if (platform.videochat.enabled && !videoChatBuilt()) {
    problems.push("the Video Chat extension is not built: run npm run build in Atrium's folder");
  }
  if (platform.ssh.enabled && !SFTP_SERVER_CANDIDATES.some((p) => existsSync(p))) {
    problems.push("OpenSSH's sftp-server is missing (SFTP, scp and VS Code need it)");
    packages.add("openssh-sftp-server");
  }
  if (!ownPortsInUse) {
    const { address, port, ports } = placement.network;
    const wanted: Array<[string, string, number]> = [
      ["target.port", address, port],
      ...Object.entries(ports).map(
        ([k, p]) => [`target.ports.${k}`, "127.0.0.1", p] as [string, string, number],
      ),
    ];
    if (platform.ssh.enabled) wanted.push(["ssh.port", address, platform.ssh.port]);
    for (const [key, host, p] of wanted) {
      if (!(await portFree(host, p))) problems.push(`port ${p} (${key}) is already in use on ${host}`);
    }
  }
  if (problems.length === 0) return;
  const hint =
    packages.size > 0
      ? `apt-get install ${[...packages].join(" ")}; change clashing ports in atrium.yaml`
      : "fix these, then deploy again";
  throw new AtriumError("prerequisite", `this machine is not ready:\n  - ${problems.join("\n  - ")}`, hint);
}
