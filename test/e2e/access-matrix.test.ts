/**
 * The access matrix: two users in different groups (alice in red, bob in blue;
 * carl shares red with alice) and an admin try every surface of the platform:
 * home folders, group folders, the hub API, each other's servers, Dask clusters
 * and dashboards, the environments API and the SSH gateway. Every denied case must
 * be denied and every allowed case must work; each surface prints its rows
 * (matrix.ts). Secrets files are root-only; no secret value shows in `ps` output or
 * in any file under the log folder.
 *
 * File checks run as the users themselves (setpriv with their uid, gid and groups).
 * Dask and SSH cases are skipped, saying so, only when the platform's file turns
 * that service off; a service the file enables whose process is not running fails.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import {
  Browser,
  pidFile,
  pidsWhere,
  readPid,
  runAs,
  secretValues,
  serverPid,
  shAs,
  spawnServer,
  userModel,
} from "./checks.js";
import {
  type CommandResult,
  freePorts,
  http,
  idOf,
  makePlatform,
  type Platform,
  runCommand,
  suiteScope,
  waitFor,
} from "./harness.js";
import { KernelClient } from "./kernel.js";
import { type Got, httpOutcome, listeningPorts, SSH_BY_TOKEN, Surface } from "./matrix.js";

/**
 * An HTTP GET over a Unix socket, run as a user: argv socket path and URL path, the
 * token on stdin (never on a command line); exit 0 on a 2xx answer, 3 otherwise, and
 * Python's "Permission denied" when the user may not connect.
 */
const SOCKET_GET = `
import socket, sys
token = sys.stdin.read().strip()
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(f"GET {sys.argv[2]} HTTP/1.0\\r\\nHost: localhost\\r\\nAuthorization: token {token}\\r\\n\\r\\n".encode())
status = int(s.recv(64).split()[1])
print(status)
sys.exit(0 if 200 <= status < 300 else 3)
`;

describe("access matrix: users, groups and an admin on every surface", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let alice = "";
  let bob = "";
  let carl = "";
  let admin = "";
  let red = "";
  let blue = "";
  const tokens: Record<string, string> = {};
  const passwords: Record<string, string> = {};
  const browsers: Record<string, Browser> = {};
  let running: string[] = [];

  const home = (u: string) => join(p.dirs.home, u);
  const shared = (g: string) => join(p.dirs.shared, g);
  /** "alice" for the platform's "<id>_alice". */
  const short = (name: string) => (name.startsWith(`${p.id}_`) ? name.slice(p.id.length + 1) : name);
  /** A shell snippet as `who` ($1, $2... are the arguments). */
  const as = (who: string, script: string, ...args: string[]) => shAs(who, script, ...args);

  /** A request through the proxy with `who`'s token ("nobody": none; "forged": a made-up one). */
  function api(
    path: string,
    who: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    if (who !== "nobody") headers.Authorization = `token ${tokens[who] ?? randomBytes(32).toString("hex")}`;
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    return (async () => {
      // A 503 is the proxy saying it got no answer (a kept-alive connection the server had
      // just closed), which says nothing about access: ask again, and judge the answer.
      for (let attempt = 1; ; attempt++) {
        const r = await http(`${p.url}${path}`, { method: init.method ?? "GET", headers, body });
        if (r.status !== 503 || attempt === 3) return r;
        await new Promise((done) => setTimeout(done, 500));
      }
    })();
  }

  function ssh(user: string, tokenOf: string, args: string[]): Promise<CommandResult> {
    const port = String((p.config.ssh as { port: number }).port);
    const file = join(p.root, "tokens", tokenOf);
    return runCommand(
      "sshpass",
      ["-f", file, "ssh", "-p", port, ...SSH_BY_TOKEN, `${user}@127.0.0.1`, ...args],
      {
        timeoutMs: 120_000,
      },
    ).done;
  }

  /**
   * `ssh -L` as `user` (with their own token) to 127.0.0.1:`port`, then one request
   * through it with the user's token: the HTTP status when the port was reached.
   */
  async function throughTunnel(
    user: string,
    port: number,
    path: string,
  ): Promise<{ status?: number; error?: string }> {
    const [local = 0] = await freePorts(1);
    const sshPort = String((p.config.ssh as { port: number }).port);
    const forward = ["-N", "-o", "ExitOnForwardFailure=yes", "-L", `127.0.0.1:${local}:127.0.0.1:${port}`];
    const tunnel = runCommand(
      "sshpass",
      [
        "-f",
        join(p.root, "tokens", user),
        "ssh",
        "-p",
        sshPort,
        ...SSH_BY_TOKEN,
        ...forward,
        `${user}@127.0.0.1`,
      ],
      { timeoutMs: 60_000 },
    );
    const listening = () =>
      new Promise<true | undefined>((ok) => {
        const s = connect(local, "127.0.0.1", () => {
          s.destroy();
          ok(true);
        });
        s.on("error", () => ok(undefined));
      });
    try {
      await waitFor("the tunnel's local port", listening, 30_000, 200);
      const headers = { Authorization: `token ${tokens[user]}` };
      const r = await http(`http://127.0.0.1:${local}${path}`, { headers, timeoutMs: 20_000 });
      return { status: r.status };
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      tunnel.child.kill("SIGTERM");
      await tunnel.done;
    }
  }

  /**
   * Whether a service's cases run: skipped, saying so, when the file turns the service
   * off; a failure when the file enables it and its process is not running.
   */
  function serviceUnderTest(t: TestContext, process: "dask-gateway" | "envs" | "ssh"): boolean {
    const section = { "dask-gateway": "dask", envs: undefined, ssh: "ssh" }[process];
    const enabled =
      section === undefined || (p.config[section] as { enabled?: boolean } | undefined)?.enabled !== false;
    if (!enabled) {
      t.skip(`${section}.enabled is false in this platform's file`);
      return false;
    }
    assert.ok(
      running.includes(process),
      `the file enables ${process} but its process is not running: ${running.join(", ")}`,
    );
    return true;
  }

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("red") }, { name: n.name("blue") }],
        users: [
          { name: n.name("admin"), admin: true },
          { name: n.name("alice"), groups: [n.name("red")] },
          { name: n.name("bob"), groups: [n.name("blue")] },
          { name: n.name("carl"), groups: [n.name("red")] },
        ],
      }),
    });
    [alice, bob, carl, admin, red, blue] = ["alice", "bob", "carl", "admin", "red", "blue"].map((s) =>
      p.name(s),
    ) as [string, string, string, string, string, string];
    const r = await p.deploy();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const status = JSON.parse(readFileSync(join(p.dirs.state, "run", "status.json"), "utf8")) as {
      processes: Array<{ name: string }>;
    };
    running = status.processes.map((x) => x.name);
    mkdirSync(join(p.root, "tokens"), { mode: 0o700 });
    for (const u of [alice, bob, admin]) {
      tokens[u] = await p.userToken(u);
      writeFileSync(join(p.root, "tokens", u), `${tokens[u]}\n`, { mode: 0o600 });
    }
    writeFileSync(join(p.root, "tokens", "forged"), `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    for (const u of [alice, bob]) {
      passwords[u] = `pw-${randomBytes(9).toString("hex")}`;
      await p.setPassword(u, passwords[u]);
      browsers[u] = new Browser(p.url);
      assert.ok(await browsers[u].login(u, passwords[u]), `${u} can't log in`);
      const mine = as(u, 'echo "private to $2" > "$1" && chmod 600 "$1"', join(home(u), "private.txt"), u);
      assert.equal(mine.code, 0, mine.stderr);
    }
    assert.equal(as(alice, 'echo "red team data" > "$1"', join(shared(red), "red.txt")).code, 0);
    assert.equal(as(bob, 'echo "blue team data" > "$1"', join(shared(blue), "blue.txt")).code, 0);
    await spawnServer(p, alice, tokens[alice] ?? "");
  });

  it("home folders: each user's home is theirs alone", () => {
    const s = new Surface("home folders");
    for (const u of [alice, bob]) {
      const st = statSync(home(u));
      const right = (st.mode & 0o777) === 0o700 && st.uid === Number(idOf(u, "-u"));
      s.fact(
        "root",
        `${short(u)}'s home is mode 0700, owned by them`,
        "allowed",
        right ? "allowed" : "error",
      );
    }
    const file = join(home(alice), "private.txt");
    s.allow("alice", "list her home", as(alice, 'ls "$1"', home(alice)));
    s.allow("alice", "read her file", as(alice, 'cat "$1"', file));
    s.allow("alice", "write in her home", as(alice, 'echo x > "$1/new.txt"', home(alice)));
    for (const other of [bob, carl, admin]) {
      const who = short(other);
      s.deny(who, "list alice's home", as(other, 'ls "$1"', home(alice)));
      s.deny(who, "read alice's file", as(other, 'cat "$1"', file));
      s.deny(who, "write in alice's home", as(other, 'echo x > "$1/planted.txt"', home(alice)));
      s.deny(who, "reach red through alice's link", as(other, 'ls "$1/shared/$2"', home(alice), red));
    }
    s.deny("alice", "list bob's home", as(alice, 'ls "$1"', home(bob)));
    s.deny("alice", "read bob's file", as(alice, 'cat "$1"', join(home(bob), "private.txt")));
    s.done();
  });

  it("group folders: members read and write, everyone else gets nothing", () => {
    const s = new Surface("group folders");
    for (const g of [red, blue]) {
      const st = statSync(shared(g));
      const right = (st.mode & 0o7777) === 0o2770 && st.uid === 0;
      s.fact("root", `${short(g)} is root's, mode 2770`, "allowed", right ? "allowed" : "error");
    }
    const redFile = join(shared(red), "red.txt");
    const blueFile = join(shared(blue), "blue.txt");
    s.allow("alice", "list red (member)", as(alice, 'ls "$1"', shared(red)));
    s.allow("alice", "read red.txt (member)", as(alice, 'cat "$1"', redFile));
    s.allow("alice", "write in red (member)", as(alice, 'echo a > "$1/from-alice.txt"', shared(red)));
    const alicesFile = join(shared(red), "from-alice.txt");
    s.allow("carl", "change alice's file in red (member)", as(carl, 'echo c >> "$1"', alicesFile));
    s.allow("carl", "read red through his own link", as(carl, 'cat "$1/shared/$2/red.txt"', home(carl), red));
    s.allow("bob", "write in blue (member)", as(bob, 'echo b > "$1/from-bob.txt"', shared(blue)));
    const outsiders: Array<[string, string, string]> = [
      [bob, red, redFile],
      [admin, red, redFile],
      [alice, blue, blueFile],
      [carl, blue, blueFile],
      [admin, blue, blueFile],
    ];
    for (const [who, g, f] of outsiders) {
      s.deny(short(who), `list ${short(g)} (not a member)`, as(who, 'ls "$1"', shared(g)));
      s.deny(short(who), `read ${short(g)}'s file (not a member)`, as(who, 'cat "$1"', f));
      s.deny(
        short(who),
        `write in ${short(g)} (not a member)`,
        as(who, 'echo x > "$1/planted.txt"', shared(g)),
      );
    }
    s.done();
  });

  it("hub API: a user's token reaches only that user; the admin's reaches everyone", async () => {
    const s = new Surface("hub API");
    const users = (r: Awaited<ReturnType<typeof api>>) =>
      r.status === 200 ? r.json<Array<{ name: string }>>().map((u) => u.name) : [];
    s.allow("alice", "GET her user", await api(`/hub/api/users/${alice}`, alice));
    s.deny("alice", "GET bob", await api(`/hub/api/users/${bob}`, alice));
    // The hub may answer a list with only what the token may see: then nobody else is in it.
    const list = await api("/hub/api/users", alice);
    const seen = users(list);
    const others: Got =
      list.status === 200 ? (seen.some((n) => n !== alice) ? "allowed" : "denied") : httpOutcome(list.status);
    s.fact(
      "alice",
      "list users (sees no one else)",
      "denied",
      others,
      `${list.status}: ${seen.map(short).join(", ")}`,
    );
    const patch = (body: unknown) => ({ method: "PATCH", body });
    s.deny("alice", "make bob admin", await api(`/hub/api/users/${bob}`, alice, patch({ admin: true })));
    s.deny(
      "alice",
      "make herself admin",
      await api(`/hub/api/users/${alice}`, alice, patch({ admin: true })),
    );
    s.deny(
      "alice",
      "rename bob",
      await api(`/hub/api/users/${bob}`, alice, patch({ name: p.name("mallory") })),
    );
    s.deny("alice", "delete bob", await api(`/hub/api/users/${bob}`, alice, { method: "DELETE" }));
    s.deny(
      "alice",
      "create a user",
      await api(`/hub/api/users/${p.name("mallory")}`, alice, { method: "POST" }),
    );
    s.deny(
      "alice",
      "make a token for bob",
      await api(`/hub/api/users/${bob}/tokens`, alice, { method: "POST", body: {} }),
    );
    s.deny("alice", "list bob's tokens", await api(`/hub/api/users/${bob}/tokens`, alice));
    s.deny(
      "alice",
      "start bob's server",
      await api(`/hub/api/users/${bob}/server`, alice, { method: "POST", body: {} }),
    );
    const join_ = { method: "POST", body: { users: [alice] } };
    s.deny("alice", "join blue", await api(`/hub/api/groups/${blue}/users`, alice, join_));
    s.deny("alice", "read the proxy's routes", await api("/hub/api/proxy", alice));
    s.deny("nobody", "list users without a token", await api("/hub/api/users", "nobody"));
    s.deny("forged", "list users with a made-up token", await api("/hub/api/users", "forged"));

    const all = await api("/hub/api/users", admin);
    const everyone = [alice, bob, carl].every((n) => users(all).includes(n));
    s.fact("admin", "list users (sees all)", "allowed", everyone ? "allowed" : "error", `${all.status}`);
    s.allow("admin", "GET bob", await api(`/hub/api/users/${bob}`, admin));
    const made = await api(`/hub/api/users/${bob}/tokens`, admin, {
      method: "POST",
      body: { expires_in: 600 },
    });
    s.allow("admin", "make a token for bob", made);
    if (made.status === 201) {
      const { id, token } = made.json<{ id: string; token: string }>();
      const me = await http(`${p.url}/hub/api/user`, { headers: { Authorization: `token ${token}` } });
      const bobs = me.status === 200 && me.json<{ name: string }>().name === bob;
      s.fact(
        "admin",
        "the token made for bob is bob's",
        "allowed",
        bobs ? "allowed" : "error",
        `${me.status}`,
      );
      s.allow(
        "admin",
        "revoke it",
        await api(`/hub/api/users/${bob}/tokens/${id}`, admin, { method: "DELETE" }),
      );
    }
    s.allow(
      "admin",
      "start bob's server",
      await api(`/hub/api/users/${bob}/server`, admin, { method: "POST", body: {} }),
    );
    await waitFor(
      `${bob}'s server`,
      async () => ((await userModel(p, bob)).servers?.[""]?.ready ? true : undefined),
      240_000,
    );

    // Nothing the refused calls asked for happened.
    const aliceNow = await userModel(p, alice);
    const bobNow = await userModel(p, bob);
    const escalated = aliceNow.admin || bobNow.admin || aliceNow.groups.includes(blue);
    s.fact(
      "alice",
      "(after) no one became admin, alice is not in blue",
      "denied",
      escalated ? "allowed" : "denied",
    );
    s.done();
  });

  it("other users' servers: never reached with someone else's token or login", async () => {
    const s = new Surface("user servers");
    // Jupyter Server answers /api (its version) to anyone; everything below it needs a token.
    for (const who of [bob, "nobody"]) {
      const r = await api(`/user/${alice}/api`, who);
      const keys = r.status === 200 ? Object.keys(r.json<Record<string, unknown>>()) : [];
      const more: Got = keys.some((k) => k !== "version") ? "allowed" : "denied";
      s.fact(
        short(who),
        "learn more than the version at /user/alice/api",
        "denied",
        more,
        `${r.status} ${keys}`,
      );
    }
    const server = (u: string, path: string) => `/user/${u}/api/${path}`;
    s.allow("alice", "GET her server's status", await api(server(alice, "status"), alice));
    s.deny("bob", "GET alice's server's status", await api(server(alice, "status"), bob));
    s.deny("bob", "list alice's files", await api(server(alice, "contents"), bob));
    s.deny("bob", "list alice's kernels", await api(server(alice, "kernels"), bob));
    s.deny(
      "bob",
      "start a kernel on alice's server",
      await api(server(alice, "kernels"), bob, { method: "POST", body: {} }),
    );
    s.deny(
      "bob",
      "open a terminal on alice's server",
      await api(server(alice, "terminals"), bob, { method: "POST", body: {} }),
    );
    s.deny("alice", "GET bob's server's status", await api(server(bob, "status"), alice));
    s.deny("nobody", "GET alice's server's status", await api(server(alice, "status"), "nobody"));
    // Hub admins hold JupyterHub's access:servers, so they reach users' servers.
    s.allow("admin", "GET alice's server's status", await api(server(alice, "status"), admin));

    const kernel = await KernelClient.start(`${p.url}/user/${alice}`, tokens[alice] ?? "");
    kernel.close();
    s.fact("alice", "open a kernel websocket on her server", "allowed", "allowed", kernel.id);
    const ws: Got = await KernelClient.connect(
      `${p.url}/user/${alice}`,
      tokens[bob] ?? "",
      kernel.id,
      20_000,
    ).then(
      (k) => {
        k.close();
        return "allowed";
      },
      (err: Error) => (/HTTP (302|401|403|404)/.test(err.message) ? "denied" : "error"),
    );
    s.fact("bob", "open a websocket to alice's kernel", "denied", ws);

    // Around the proxy: the server listens on no TCP port (one another user could
    // claim), only on a socket in alice's own folder, and on the link root pinned.
    const ports = listeningPorts(await serverPid(p, alice));
    s.fact(
      "root",
      "alice's server listens on no TCP port",
      "allowed",
      ports.length === 0 ? "allowed" : "error",
      ports.join(", "),
    );
    const socket = join(p.dirs.data, "servers", "users", alice, "server.sock");
    const pinned = (await userModel(p, alice)).servers?.[""]?.state?.atrium_socket?.pinned ?? "";
    const direct = (who: string, path: string) =>
      runAs(who, ["python3", "-c", SOCKET_GET, path, `/user/${alice}/api/contents`], tokens[who]);
    s.allow("alice", "list her files on her server's own socket", direct(alice, socket));
    s.deny("bob", "list alice's files on her server's own socket", direct(bob, socket));
    s.deny("bob", "list alice's files on the socket the hub pinned", direct(bob, pinned));
    s.deny("bob", "plant a socket in alice's socket folder", as(bob, 'touch "$1.x"', socket));

    const own = await browsers[alice]?.navigate(`/user/${alice}/lab`);
    s.fact(
      "alice",
      "open JupyterLab with her login",
      "allowed",
      own?.status === 200 ? "allowed" : "error",
      `${own?.status}`,
    );
    const theirs = await browsers[bob]?.navigate(`/user/${alice}/lab`);
    const reached = theirs?.status === 200 && theirs.url.includes(`/user/${alice}/`);
    const where = `${theirs?.status} at ${theirs?.url.replace(p.url, "").split("?")[0]}`;
    s.fact(
      "bob",
      "open alice's JupyterLab with his login",
      "denied",
      reached ? "allowed" : httpOutcome(theirs?.status ?? 0),
      where,
    );
    s.done();
  });

  it("Dask: a cluster, its API and its dashboard belong to its owner alone", async (t) => {
    if (!serviceUnderTest(t, "dask-gateway")) return;
    const s = new Surface("Dask");
    const gw = "/services/dask-gateway";
    const dask = (path: string, who: string, init: { method?: string; body?: unknown } = {}) =>
      http(`${p.url}${gw}/api/v1${path}`, {
        method: init.method ?? "GET",
        headers: { Authorization: `jupyterhub ${tokens[who]}`, "Content-Type": "application/json" },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        timeoutMs: 180_000,
      });
    const created = await dask("/clusters/", alice, { method: "POST", body: { cluster_options: {} } });
    s.allow("alice", "create a cluster", created);
    assert.equal(created.status, 201, created.text);
    const name = created.json<{ name: string }>().name;
    const ready = await dask(`/clusters/${name}?wait`, alice);
    s.allow("alice", "GET her cluster (waiting until it runs)", ready);
    assert.equal(ready.json<{ status: string }>().status, "RUNNING", ready.text);
    const listed = async (who: string): Promise<Got> => {
      const r = await dask("/clusters/", who);
      return r.status === 200 && name in r.json<Record<string, unknown>>() ? "allowed" : "denied";
    };
    s.fact("alice", "see it in her list", "allowed", await listed(alice));
    const dashboard = `${gw}/clusters/${name}/status`;
    const own = await waitFor(
      "the dashboard",
      async () => {
        const r = await api(dashboard, alice);
        return r.status === 200 ? r : undefined;
      },
      60_000,
    );
    s.allow("alice", "open her dashboard", own);
    const schedulers = pidsWhere((c) => /dask[- ]scheduler|dask_scheduler/.test(c)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "utf8").includes(`DASK_GATEWAY_CLUSTER_NAME=${name}\0`);
      } catch {
        return false;
      }
    });
    const uids = schedulers.map((pid) => statSync(`/proc/${pid}`).uid);
    const hers = uids.length > 0 && uids.every((u) => u === Number(idOf(alice, "-u")));
    s.fact(
      "alice",
      "her scheduler runs as her",
      "allowed",
      hers ? "allowed" : "error",
      `uids ${uids.join(", ") || "-"}`,
    );

    // The scheduler's own dashboard port on loopback: kept for root (the guard) by the kernel.
    const dashboardPort = schedulers
      .map(
        (pid) =>
          /--dashboard-address 127\.0\.0\.1:(\d+)/.exec(
            readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "),
          )?.[1],
      )
      .find((port) => port !== undefined);
    for (const who of [alice, bob]) {
      const r = as(
        who,
        'python3 -c \'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/status", timeout=10)\' "$1"',
        dashboardPort ?? "0",
      );
      const refused = /Connection refused|Connection reset/i.test(r.stderr);
      s.fact(
        short(who),
        "open alice's scheduler dashboard on its loopback port",
        "denied",
        dashboardPort === undefined ? "error" : r.code === 0 ? "allowed" : refused ? "denied" : "error",
        dashboardPort === undefined
          ? "no dashboard port"
          : `port ${dashboardPort}: ${r.code === 0 ? "served" : r.stderr.trim().split("\n").at(-1)}`,
      );
    }

    for (const other of [bob, admin]) {
      const who = short(other);
      s.fact(who, "see alice's cluster in his list", "denied", await listed(other));
      s.deny(who, "GET alice's cluster (its TLS credentials)", await dask(`/clusters/${name}`, other));
      s.deny(
        who,
        "scale alice's cluster",
        await dask(`/clusters/${name}/scale`, other, { method: "POST", body: { count: 1 } }),
      );
      s.deny(who, "stop alice's cluster", await dask(`/clusters/${name}`, other, { method: "DELETE" }));
      s.deny(who, "open alice's dashboard with a token", await api(dashboard, other));
    }
    s.deny("nobody", "open alice's dashboard", await api(dashboard, "nobody"));
    const viaLogin = await browsers[bob]?.navigate(dashboard);
    const where = `${viaLogin?.status} at ${viaLogin?.url.replace(p.url, "").split("?")[0]}`;
    s.fact(
      "bob",
      "open alice's dashboard with his login",
      "denied",
      httpOutcome(viaLogin?.status ?? 0),
      where,
    );
    const still = await dask(`/clusters/${name}`, alice);
    const runs = still.status === 200 && still.json<{ status: string }>().status === "RUNNING";
    s.fact(
      "alice",
      "(after) her cluster still runs",
      "allowed",
      runs ? "allowed" : "error",
      `${still.status}`,
    );
    s.allow("alice", "stop her cluster", await dask(`/clusters/${name}`, alice, { method: "DELETE" }));
    s.done();
  });

  it("environments API: namespaces follow users and groups", async (t) => {
    if (!serviceUnderTest(t, "envs")) return;
    const s = new Surface("environments API");
    const v1 = "/services/envs/api/v1";
    const perm = await api(`${v1}/permission`, alice);
    s.allow("alice", "GET permission", perm);
    type Perm = { data: { namespaces: Array<{ name: string }> } };
    const namespaces = perm.status === 200 ? perm.json<Perm>().data.namespaces.map((n) => n.name) : [];
    const right =
      ["global", red, alice].every((n) => namespaces.includes(n)) &&
      ![bob, blue, carl].some((n) => namespaces.includes(n));
    s.fact(
      "alice",
      "her namespaces: global, red, her own",
      "allowed",
      right ? "allowed" : "error",
      namespaces.map(short).join(", "),
    );
    s.allow("alice", "GET namespace red (member)", await api(`${v1}/namespace/${red}`, alice));
    s.allow("alice", "GET her namespace", await api(`${v1}/namespace/${alice}`, alice));
    s.deny("alice", "GET namespace blue", await api(`${v1}/namespace/${blue}`, alice));
    s.deny("alice", "GET bob's namespace", await api(`${v1}/namespace/${bob}`, alice));
    const submit = (ns: string, name: string) => ({
      method: "POST",
      body: { namespace: ns, environment_name: name, specification: "six\n" },
    });
    for (const ns of [bob, blue, "global"]) {
      s.deny(
        "alice",
        `create an environment in ${short(ns)}`,
        await api(`${v1}/specification`, alice, submit(ns, "intruder")),
      );
    }
    const actAsBob = { headers: { "X-Atrium-User": bob } };
    s.deny("alice", "act as bob (X-Atrium-User)", await api(`${v1}/permission`, alice, actAsBob));
    s.deny("nobody", "GET permission without a token", await api(`${v1}/permission`, "nobody"));

    const submitted = await api(`${v1}/specification`, alice, submit(alice, "mine"));
    s.allow("alice", "create an environment in her namespace", submitted);
    const id = submitted.status === 200 ? submitted.json<{ data: { build_id: number } }>().data.build_id : 0;
    assert.ok(id > 0, submitted.text);
    s.allow("alice", "GET her build", await api(`${v1}/build/${id}`, alice));
    s.deny("bob", "GET alice's build", await api(`${v1}/build/${id}`, bob));
    s.deny("bob", "read alice's build log", await api(`${v1}/build/${id}/logs`, bob));
    s.deny("bob", "cancel alice's build", await api(`${v1}/build/${id}/cancel`, bob, { method: "PUT" }));
    s.deny(
      "bob",
      "delete alice's environment",
      await api(`${v1}/environment/${alice}/mine`, bob, { method: "DELETE" }),
    );
    const bobList = await api(`${v1}/environment?namespace=${alice}`, bob);
    const bobSees = bobList.status === 200 ? bobList.json<{ data: unknown[] }>().data.length : 0;
    const listedForBob: Got =
      bobSees > 0 ? "allowed" : bobList.status === 200 ? "denied" : httpOutcome(bobList.status);
    s.fact(
      "bob",
      "list alice's environments",
      "denied",
      listedForBob,
      `${bobList.status}, ${bobSees} listed`,
    );

    s.allow("admin", "GET bob's namespace", await api(`${v1}/namespace/${bob}`, admin));
    s.allow("admin", "GET alice's build", await api(`${v1}/build/${id}`, admin));
    const actAs = await api(`${v1}/permission`, admin, actAsBob);
    const asBob = actAs.status === 200 && actAs.json<{ data: { name: string } }>().data.name === bob;
    s.fact(
      "admin",
      "act as bob (X-Atrium-User)",
      "allowed",
      asBob ? "allowed" : httpOutcome(actAs.status),
      `${actAs.status}`,
    );
    // A token revoked at the hub stops working at the service at once, for reads and builds.
    const made = await p.hubApi(`/users/${alice}/tokens`, { method: "POST", body: { expires_in: 600 } });
    const fresh = made.json<{ id: string; token: string }>();
    const withFresh = (path: string, init: { method?: string; body?: unknown } = {}) =>
      http(`${p.url}${v1}${path}`, {
        method: init.method ?? "GET",
        headers: { Authorization: `token ${fresh.token}`, "Content-Type": "application/json" },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    s.allow("alice", "GET permission with a new token", await withFresh("/permission"));
    s.allow(
      "admin",
      "revoke alice's new token",
      await p.hubApi(`/users/${alice}/tokens/${fresh.id}`, { method: "DELETE" }),
    );
    s.deny("alice", "GET permission with the revoked token, at once", await withFresh("/permission"));
    s.deny(
      "alice",
      "create a build with the revoked token, at once",
      await withFresh("/specification", submit(alice, "revoked")),
    );
    const cancel = await api(`${v1}/build/${id}/cancel`, alice, { method: "PUT" });
    // The build may have ended on its own already; 409 then says there was nothing to cancel.
    const cancelled: Got =
      cancel.status === 200 || cancel.status === 409 ? "allowed" : httpOutcome(cancel.status);
    s.fact("alice", "cancel her build", "allowed", cancelled, `${cancel.status}`);
    s.done();
  });

  it("SSH gateway: a token opens its owner's account and nothing more", async (t) => {
    if (!serviceUnderTest(t, "ssh")) return;
    const s = new Surface("SSH");
    const login = async (
      user: string,
      tokenOf: string,
      action: string,
      expected: "allowed" | "denied",
      args: string[],
    ) => {
      const r = await ssh(user, tokenOf, args);
      const got: Got = r.code === 0 ? "allowed" : /Permission denied/.test(r.stderr) ? "denied" : "error";
      s.fact(
        short(tokenOf),
        action,
        expected,
        got,
        (r.code === 0 ? r.stdout : r.stderr).trim().split("\n")[0],
      );
      return r;
    };
    const me = await login(alice, alice, "log in as alice with her token", "allowed", ["id", "-un"]);
    assert.equal(me.stdout.trim(), alice);
    // A success between refusals keeps the gateway's failure count (and its delays) low.
    await login(bob, alice, "log in as bob with alice's token", "denied", ["true"]);
    await login(alice, alice, "log in again (clears the failure count)", "allowed", ["true"]);
    await login(alice, bob, "log in as alice with bob's token", "denied", ["true"]);
    await login(alice, admin, "log in as alice with the admin's token", "denied", ["true"]);
    await login(alice, alice, "log in again (clears the failure count)", "allowed", ["true"]);
    await login(alice, "forged", "log in as alice with a made-up token", "denied", ["true"]);
    await login(alice, alice, "read bob's file over SSH", "denied", ["cat", join(home(bob), "private.txt")]);
    await login(alice, alice, "list blue over SSH", "denied", ["ls", shared(blue)]);
    await login(alice, alice, "list red over SSH (member)", "allowed", ["ls", shared(red)]);

    // Local forwarding (ssh -L, as VS Code uses it) reaches only the user's own ports:
    // a web server alice runs herself on loopback.
    const [port = 0] = await freePorts(1);
    const web = runCommand(
      "setpriv",
      [
        "--reuid",
        alice,
        "--regid",
        alice,
        "--init-groups",
        "--",
        "python3",
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        String(port),
      ],
      { cwd: "/", env: { PATH: "/usr/bin:/bin" }, timeoutMs: 600_000 },
    );
    scope.after(() => web.child.kill("SIGKILL"));
    await waitFor(
      "alice's own web server",
      () => (listeningPorts(web.child.pid ?? 0).includes(port) ? true : undefined),
      30_000,
      200,
    );
    const own = await throughTunnel(alice, port, "/");
    s.fact(
      "alice",
      "forward to her own web server's port",
      "allowed",
      own.status === 200 ? "allowed" : "error",
      own.error ?? `HTTP ${own.status}`,
    );
    const theirs = await throughTunnel(bob, port, "/");
    const refusal = readFileSync(join(p.dirs.log, "ssh.log"), "utf8")
      .split("\n")
      .find((l) => l.includes(`${bob} `) && l.includes(`:${port} refused`));
    const got: Got = theirs.status !== undefined ? "allowed" : refusal ? "denied" : "error";
    const why =
      theirs.status !== undefined
        ? `reached it: HTTP ${theirs.status}`
        : (refusal?.replace(/^.*refused/, "refused") ?? theirs.error);
    s.fact("bob", "forward to alice's web server's port", "denied", got, why);
    web.child.kill("SIGKILL");
    await web.done;
    s.done();
  });

  it("secrets: root-only files, never in ps output or any log", async () => {
    const s = new Surface("secrets");
    const dir = join(p.dirs.data, "secrets");
    const st = statSync(dir);
    const rootOnly = st.uid === 0 && (st.mode & 0o777) === 0o700;
    s.fact("root", "the secrets folder is root's, mode 0700", "allowed", rootOnly ? "allowed" : "error");
    for (const f of readdirSync(dir)) {
      const fst = lstatSync(join(dir, f));
      const mode = fst.mode & 0o777;
      const right =
        fst.isFile() &&
        fst.uid === 0 &&
        fst.gid === 0 &&
        (f.endsWith(".pub") ? (mode & 0o022) === 0 : mode === 0o600);
      s.fact(
        "root",
        `${f}: root's, ${f.endsWith(".pub") ? "only root writes" : "mode 0600"}`,
        "allowed",
        right ? "allowed" : "error",
        mode.toString(8),
      );
    }
    for (const who of [alice, admin]) {
      s.deny(short(who), "list the secrets folder", as(who, 'ls "$1"', dir));
      s.deny(short(who), "read the cookie secret", as(who, 'cat "$1"', join(dir, "cookie_secret")));
      s.deny(
        short(who),
        "read the hub database",
        as(who, 'cat "$1" >/dev/null', join(p.dirs.data, "hub", "jupyterhub.sqlite")),
      );
    }
    // Secrets reach processes through their environment: only their owner may read it.
    s.deny(
      "alice",
      "read the hub's environment",
      as(alice, 'cat "$1" >/dev/null', `/proc/${readPid(pidFile(p, "hub"))}/environ`),
    );
    const server = await serverPid(p, alice);
    s.deny(
      "bob",
      "read alice's server's environment",
      as(bob, 'cat "$1" >/dev/null', `/proc/${server}/environ`),
    );

    const values = secretValues(p);
    for (const [u, pw] of Object.entries(passwords)) values.set(`${short(u)}'s password`, pw);
    for (const [u, tk] of Object.entries(tokens)) values.set(`${short(u)}'s API token`, tk);
    const serverEnv = readFileSync(`/proc/${server}/environ`, "utf8").split("\0");
    const serverToken = serverEnv.find((e) => e.startsWith("JUPYTERHUB_API_TOKEN="))?.split("=")[1];
    if (serverToken) values.set("alice's server's token", serverToken);
    assert.ok(values.size >= 8, `only ${values.size} secret values found: ${[...values.keys()].join(", ")}`);

    const ps = execFileSync("ps", ["-eo", "args", "--no-headers"], { encoding: "utf8", maxBuffer: 64 << 20 });
    assert.match(ps, new RegExp(`jupyterhub -f ${p.dirs.prefix}/etc/`), "the hub is not in the process list");
    for (const [what, value] of values)
      s.fact("ps", `${what} in ps -eo args`, "denied", ps.includes(value) ? "allowed" : "denied");
    const logs: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.isFile()) logs.push(join(d, e.name));
      }
    };
    walk(p.dirs.log);
    assert.ok(logs.length >= 3, `only ${logs.length} log files`);
    for (const file of logs) {
      const text = readFileSync(file, "utf8");
      const leaked = [...values].filter(([, v]) => text.includes(v)).map(([w]) => w);
      const name = file.replace(`${p.dirs.log}/`, "");
      s.fact(
        "logs",
        `any secret in ${name}`,
        "denied",
        leaked.length > 0 ? "allowed" : "denied",
        leaked.join(", ") || "none",
      );
    }
    s.done();
  });
});
