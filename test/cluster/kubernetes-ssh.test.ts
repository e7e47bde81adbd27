/**
 * SSH on the kubernetes target, on the real test cluster, with the OpenSSH client: the
 * team example deployed; a token login runs `id` as the user inside their own server
 * pod (the gateway starts the server when it is not running); a real terminal; sftp
 * put and get with matching checksums, the file landing in the home as the user; a key
 * from ~/.ssh/authorized_keys on the shared volume; `ssh -L` to a port a process in
 * the user's pod listens on, and refusals for another user's pod. Attacks: another
 * user's token, a revoked token, a forward to another user's pod by address. A session
 * stays open across a redeploy that adds a user, who can log in at once; `atrium status`
 * lists the sessions. Tokens reach ssh through `sshpass -f FILE`, never a command line.
 * Everything it made (namespace, volumes, host folder) is removed afterwards, also on failure.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { type CommandResult, runCommand, sleep } from "../e2e/harness.js";
import { SSH_BY_PASSWORD, SSH_QUIET } from "../e2e/ssh-options.js";
import { type TestCluster, testCluster } from "./cluster-access.js";
import { poll } from "./pods.js";
import { siteHub } from "./site-hub.js";
import { platformSecret, prepareTeamSite, removeTeamSite, runAtrium, teamSite } from "./team-deploy.js";

const site = teamSite("atrium-kssh");
const { namespace: NAMESPACE, base: BASE, sshPort: SSH_PORT } = site;
const hub = siteHub(BASE);
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A free port on this machine for the client's end of a forward. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("SSH on the kubernetes target", () => {
  let cluster: TestCluster | string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let stopIndex: (() => Promise<void>) | undefined;
  let admin = "";
  const secrets = join(site.work, "tokens");
  const tokenFiles: Record<string, string> = {};
  const tokenIds: Record<string, string> = {};
  const open: Array<ReturnType<typeof runCommand>> = [];
  const sessions: ChildProcess[] = [];

  const writeToken = (label: string, token: string): string => {
    const file = join(secrets, label);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return file;
  };

  const newToken = async (user: string): Promise<{ file: string; id: string }> => {
    const res = await hub.api(admin, "POST", `/users/${user}/tokens`, { note: "ssh test" });
    assert.equal(res.status, 201, `a token for ${user}`);
    const body = (await res.json()) as { token: string; id: string };
    return { file: writeToken(`${user}-${body.id}`, body.token), id: body.id };
  };

  const sshArgs = (user: string, args: string[], options: string[] = []) => [
    "ssh",
    "-p",
    String(SSH_PORT),
    ...SSH_QUIET,
    ...SSH_BY_PASSWORD,
    ...options,
    `${user}@127.0.0.1`,
    ...args,
  ];

  const ssh = (user: string, file: string, args: string[], input?: string): Promise<CommandResult> =>
    runCommand("sshpass", ["-f", file, ...sshArgs(user, args)], { input, timeoutMs: 400_000 }).done;

  const serverPod = async (user: string): Promise<V1Pod | undefined> =>
    (
      await core.listNamespacedPod({
        namespace: NAMESPACE,
        labelSelector: "app.kubernetes.io/component=singleuser-server",
      })
    ).items.find((p) => p.metadata?.annotations?.["hub.jupyter.org/username"] === user);

  const gatewayPod = async (): Promise<V1Pod | undefined> =>
    (
      await core.listNamespacedPod({
        namespace: NAMESPACE,
        labelSelector: "app.kubernetes.io/component=ssh-gateway",
      })
    ).items[0];

  /** The gateway's log, for a failure's message. */
  const gatewayLog = async (): Promise<string> => {
    const name = (await gatewayPod())?.metadata?.name;
    if (!name) return "(no gateway pod)";
    return String(
      await core.readNamespacedPodLog({ name, namespace: NAMESPACE, tailLines: 40 }).catch(String),
    );
  };

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    kc = cluster.kc;
    core = kc.makeApiClient(CoreV1Api);
    const index = await prepareTeamSite(kc, core, site);
    stopIndex = index.stop;
    mkdirSync(secrets, { recursive: true, mode: 0o700 });
  });

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      for (const c of open) c.child.kill("SIGKILL");
      for (const c of sessions) c.kill("SIGKILL");
      await removeTeamSite(core, site);
      await stopIndex?.();
    } finally {
      cluster.stop();
    }
  });

  test("deploys the gateway behind its own node port", { timeout: 1_200_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const r = await runAtrium(["deploy", "-c", site.file], site.env);
    assert.equal(r.code, 0, r.out);
    const gateway = await gatewayPod();
    assert.equal(gateway?.status?.phase, "Running");
    admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    for (const user of ["grace", "alan"]) {
      const { file, id } = await newToken(user);
      tokenFiles[user] = file;
      tokenIds[user] = id;
    }
    const scan = await runCommand("ssh-keyscan", ["-t", "ed25519", "-p", String(SSH_PORT), "127.0.0.1"]).done;
    assert.match(scan.stdout, /ssh-ed25519 AAAA/, scan.stderr);
  });

  test("a token login starts her server and runs id as her, in her own pod", {
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    assert.equal(await serverPod("grace"), undefined, "grace's server runs before her first login");
    const r = await ssh("grace", tokenFiles.grace ?? "", ["id -u; id -G; hostname; pwd; echo $HOME"]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${await gatewayLog()}`);
    const pod = await serverPod("grace");
    const uid = pod?.spec?.containers.find((c) => c.name === "notebook")?.securityContext?.runAsUser;
    assert.ok(uid !== undefined && uid >= 10000, `grace's pod runs as ${uid}`);
    const [id, groups, host, cwd, home] = r.stdout.trim().split("\n");
    assert.equal(id, String(uid));
    assert.ok(groups?.split(" ").length && groups.split(" ").length >= 2, `groups: ${groups}`);
    assert.equal(host, pod?.metadata?.name);
    assert.equal(cwd, "/home/grace");
    assert.equal(home, "/home/grace");
    assert.match(r.stderr, /starting your server/);
    // the exit status and stderr come back apart
    const failed = await ssh("grace", tokenFiles.grace ?? "", ["echo out; echo err >&2; exit 42"]);
    assert.equal(failed.code, 42);
    assert.equal(failed.stdout, "out\n");
    assert.equal(failed.stderr, "err\n");
    // input reaches the program, and its end too
    const cat = await ssh("grace", tokenFiles.grace ?? "", ["wc -c"], "x".repeat(100_000));
    assert.equal(cat.stdout.trim(), "100000");
  });

  test("a terminal: a real tty of the client's size", { timeout: 120_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const r = await runCommand(
      "sshpass",
      ["-f", tokenFiles.grace ?? "", ...sshArgs("grace", ["tty; stty size; echo TERM=$TERM"], ["-tt"])],
      { timeoutMs: 120_000 },
    ).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /^\d+ \d+\r?$/m);
    assert.match(r.stdout, /TERM=\S+/);
  });

  test("sftp put and get keep every byte, and the file is hers on the volume", {
    timeout: 300_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const data = randomBytes(8 * 1024 * 1024);
    const local = join(site.work, "up.bin");
    const back = join(site.work, "back.bin");
    writeFileSync(local, data);
    // the commands on stdin: sftp -b would turn password logins off (batch mode)
    const r = await runCommand(
      "sshpass",
      [
        "-f",
        tokenFiles.grace ?? "",
        "sftp",
        "-P",
        String(SSH_PORT),
        ...SSH_QUIET,
        ...SSH_BY_PASSWORD,
        "grace@127.0.0.1",
      ],
      { input: `put ${local} up.bin\nget up.bin ${back}\nbye\n`, timeoutMs: 300_000 },
    ).done;
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${await gatewayLog()}`);
    assert.equal(sha256(readFileSync(back)), sha256(data));
    const onVolume = join(site.sharedDir, "home", "grace", "up.bin");
    assert.equal(sha256(readFileSync(onVolume)), sha256(data));
    const pod = await serverPod("grace");
    const uid = pod?.spec?.containers.find((c) => c.name === "notebook")?.securityContext?.runAsUser;
    assert.equal(statSync(onVolume).uid, uid);
  });

  test("a key in ~/.ssh/authorized_keys on the shared volume logs her in", {
    timeout: 120_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const key = join(secrets, "grace_key");
    const kg = await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).done;
    assert.equal(kg.code, 0, kg.stderr);
    const home = join(site.sharedDir, "home", "grace");
    const { uid, gid } = statSync(home);
    const dotSsh = join(home, ".ssh");
    mkdirSync(dotSsh, { recursive: true, mode: 0o700 });
    chownSync(dotSsh, uid, gid);
    const keys = join(dotSsh, "authorized_keys");
    writeFileSync(keys, readFileSync(`${key}.pub`), { mode: 0o600 });
    chownSync(keys, uid, gid);
    const args = [
      "-p",
      String(SSH_PORT),
      ...SSH_QUIET,
      "-i",
      key,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
    ];
    const r = await runCommand("ssh", [...args, "grace@127.0.0.1", "id -u"], { timeoutMs: 120_000 }).done;
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${await gatewayLog()}`);
    assert.equal(r.stdout.trim(), String(uid));
    // her key is not alan's
    const alan = await runCommand("ssh", [...args, "alan@127.0.0.1", "id -u"], { timeoutMs: 60_000 }).done;
    assert.notEqual(alan.code, 0);
    assert.match(alan.stderr, /Permission denied/);
  });

  test("ssh -L reaches a port inside her own pod, never another user's pod", {
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    // a web server inside grace's pod, left running after the session ends
    const started = await ssh("grace", tokenFiles.grace ?? "", [
      "mkdir -p ~/site && echo hello-from-grace > ~/site/index.html && cd ~/site && (nohup python3 -m http.server 9123 --bind 127.0.0.1 >/dev/null 2>&1 &) ; sleep 2; echo started",
    ]);
    assert.match(started.stdout, /started/, started.stderr);
    const local = await freePort();
    const forward = runCommand(
      "sshpass",
      ["-f", tokenFiles.grace ?? "", ...sshArgs("grace", ["-N", "-L", `${local}:localhost:9123`])],
      { timeoutMs: 600_000 },
    );
    open.push(forward);
    const body = await poll("the forward to grace's web server", 60, async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${local}/index.html`);
        return res.status === 200 ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    });
    assert.equal(body.trim(), "hello-from-grace");
    forward.child.kill();

    // alan's server, and a forward from grace's login to its address: refused
    await hub.spawnReady(admin, "alan");
    const alanIp = (await serverPod("alan"))?.status?.podIP;
    assert.ok(alanIp, "alan's pod has no address");
    for (const target of [`${alanIp}:8888`, `jupyter-alan:8888`, `hub:8081`]) {
      const port = await freePort();
      const attack = runCommand(
        "sshpass",
        ["-f", tokenFiles.grace ?? "", ...sshArgs("grace", ["-N", "-L", `${port}:${target}`])],
        { timeoutMs: 120_000 },
      );
      open.push(attack);
      await sleep(4000);
      const reached = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) }).then(
        (res) => res.status,
        () => undefined,
      );
      attack.child.kill();
      assert.equal(reached, undefined, `grace reached ${target} through the gateway`);
    }
    assert.match(await gatewayLog(), /forward to .* refused: only ports inside your own server/);
  });

  test("another user's token, and a revoked token, log no one in", { timeout: 180_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const stolen = await ssh("grace", tokenFiles.alan ?? "", ["id -u"]);
    assert.notEqual(stolen.code, 0);
    assert.match(stolen.stderr, /Permission denied/);
    const fresh = await newToken("alan");
    assert.equal((await ssh("alan", fresh.file, ["true"])).code, 0);
    const revoked = await hub.api(admin, "DELETE", `/users/alan/tokens/${fresh.id}`);
    assert.equal(revoked.status, 204);
    const after = await ssh("alan", fresh.file, ["true"]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /Permission denied/);
  });

  test("a session survives a redeploy that adds a user, who logs in at once; status lists it", {
    timeout: 1_200_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const gatewayBefore = (await gatewayPod())?.metadata?.name;
    // a session that echoes each line back until its input ends
    const session = spawn(
      "sshpass",
      ["-f", tokenFiles.grace ?? "", ...sshArgs("grace", ["while read l; do echo got-$l; done"])],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    sessions.push(session);
    const ended = new Promise<number | null>((resolve) => session.on("close", (code) => resolve(code)));
    let out = "";
    let err = "";
    session.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    session.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    session.stdin.write("one\n");
    await poll("the session's first echo", 60, async () => (out.includes("got-one") ? true : undefined));

    const status = await poll("atrium status to list grace's session", 30, async () => {
      const s = await runAtrium(["status", "-c", site.file], site.env);
      return /grace: exec from/.test(s.out) ? s.out : undefined;
    });
    assert.match(status, new RegExp(`SSH gateway: ready, port ${SSH_PORT}`));

    const text = readFileSync(site.file, "utf8");
    const added = text.replace("\nprofiles:\n", "  - name: linus\n    groups: [analysts]\n\nprofiles:\n");
    assert.notEqual(added, text, "the example's users block changed");
    writeFileSync(site.file, added);
    const r = await runAtrium(["deploy", "-c", site.file], site.env);
    assert.equal(r.code, 0, r.out);
    assert.equal((await gatewayPod())?.metadata?.name, gatewayBefore, "the deploy restarted the gateway");

    session.stdin.write("two\n");
    await poll("the session's echo after the deploy", 60, async () =>
      out.includes("got-two") ? true : undefined,
    );
    session.stdin.end();
    assert.equal(await ended, 0, err);

    // linus, added by that deploy, logs in at once (his server started for him)
    const { file } = await newToken("linus");
    const linus = await ssh("linus", file, ["id -un"]);
    assert.equal(linus.code, 0, `${linus.stdout}${linus.stderr}\n${await gatewayLog()}`);
    assert.equal(linus.stdout.trim(), "linus");
  });
});
