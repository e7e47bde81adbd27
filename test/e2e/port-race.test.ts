/**
 * The spawn port race, attacked for real: an ordinary user (mallory) runs
 * port-grabber.py, which holds blocks of loopback ports bound but not listening
 * (so that bind(0), the hub's way of picking a port, lands in one of its gaps),
 * watches /proc for the victim's new jupyterhub-singleuser and then listens on
 * every gap, answering like a server. The victim spawns SPAWNS times; after each
 * spawn `/user/<victim>/api/status` is asked with the victim's token. No spawn may
 * be answered by the attacker, and every spawn must be the victim's own server.
 *
 * The attacker is a child of this test (its stdin is a pipe: it exits when the
 * pipe closes); it is killed by pid at the end, also on failure, and the harness
 * removes the attacker's account and anything left of it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stopServer } from "./checks.js";
import {
  http,
  idOf,
  makePlatform,
  type Platform,
  REPO,
  spawnServer,
  suiteScope,
  waitFor,
} from "./harness.js";

const SPAWNS = 20;

/** The attacker program, run as `user`; collects its output lines. */
class PortGrabber {
  readonly lines: string[] = [];
  private child: ChildProcess;

  constructor(script: string, user: string, victimUid: number, marker: string) {
    this.child = spawn(
      "setpriv",
      [
        "--reuid",
        user,
        "--regid",
        user,
        "--init-groups",
        "--",
        "/usr/bin/python3",
        script,
        String(victimUid),
        marker,
        "--ports",
        "4000",
        "--seconds",
        "1500",
      ],
      { cwd: "/", stdio: ["pipe", "pipe", "inherit"], env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" } },
    );
    let partial = "";
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
    });
  }

  count(prefix: string): number {
    return this.lines.filter((l) => l.startsWith(prefix)).length;
  }

  /** Close the gaps again, so the next spawn's port can land in one. */
  async reset(): Promise<void> {
    const before = this.count("reset");
    this.child.stdin?.write("reset\n");
    await waitFor(
      "the attacker to reset",
      () => (this.count("reset") > before ? true : undefined),
      10_000,
      50,
    );
  }

  stop(): void {
    this.child.stdin?.end();
    if (this.child.pid !== undefined && this.child.exitCode === null) {
      try {
        process.kill(this.child.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
}

describe("spawn port race: another user's process never answers for a user's server", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let victim = "";
  let mallory = "";
  let token = "";
  let grabber: PortGrabber | undefined;
  const marker = `attacker-${randomBytes(6).toString("hex")}`;

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        users: [
          { name: n.name("admin"), admin: true },
          { name: n.name("victim") },
          { name: n.name("mallory") },
        ],
        dask: { enabled: false },
        ssh: { enabled: false },
        idle_culler: { enabled: false },
      }),
    });
    victim = p.name("victim");
    mallory = p.name("mallory");
    const r = await p.deploy();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    token = await p.userToken(victim);
    const script = join(p.root, "port-grabber.py");
    copyFileSync(join(REPO, "test", "e2e", "port-grabber.py"), script);
    chmodSync(script, 0o644);
    grabber = new PortGrabber(script, mallory, Number(idOf(victim, "-u")), marker);
    scope.after(() => grabber?.stop());
    const g = grabber;
    await waitFor("the attacker to hold its ports", () => (g.count("ready") ? true : undefined), 60_000, 200);
  });

  it(`${SPAWNS} spawns while another user races for the port: none reaches the attacker`, async () => {
    const g = grabber as PortGrabber;
    let attacked = 0;
    let own = 0;
    const outcomes: string[] = [];
    for (let i = 0; i < SPAWNS; i++) {
      await g.reset();
      await spawnServer(p, victim, token);
      const r = await http(`${p.url}/user/${victim}/api/status`, {
        headers: { Authorization: `token ${token}` },
      });
      if (r.text.includes(marker)) {
        attacked++;
        outcomes.push("attacker");
      } else if (r.status === 200 && "started" in r.json<Record<string, unknown>>()) {
        own++;
        outcomes.push("own");
      } else {
        outcomes.push(`HTTP ${r.status}`);
      }
      await stopServer(p, victim, token);
    }
    const armed = g.count("armed");
    process.stdout.write(
      `port race: ${attacked} of ${SPAWNS} spawns answered by the attacker, ${own} by the victim's own server; ` +
        `the attacker listened on its gaps ${armed} times (${g.lines.find((l) => l.startsWith("ready"))})\n` +
        `  outcomes: ${outcomes.join(", ")}\n`,
    );
    // the attack really ran: the attacker saw (nearly) every server start and listened on its gaps
    assert.ok(armed >= SPAWNS - 2, `the attacker saw only ${armed} of ${SPAWNS} server starts`);
    assert.equal(attacked, 0, `${attacked} of ${SPAWNS} spawns were answered by another user's process`);
    assert.equal(
      own,
      SPAWNS,
      `only ${own} of ${SPAWNS} spawns were the victim's own server: ${outcomes.join(", ")}`,
    );
  });
});
