/**
 * SSH on the kubernetes target beside the local target, in one run on this machine,
 * with the same OpenSSH client and the same measures (ssh-measure.ts):
 * login-to-first-output (median of N, the user's server already running) and a
 * 200 MB scp up and down (median of 3), through the cluster's gateway (sessions in the
 * user's pod, through the exec API) and through a throwaway local platform's gateway.
 *
 * Run as root with the test cluster built: node dist/bench/kubernetes-ssh.js [--runs N] [--mb SIZE]
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { siteHub } from "../test/cluster/site-hub.js";
import { platformSecret, runAtrium } from "../test/cluster/team-deploy.js";
import { makePlatform } from "../test/e2e/harness.js";
import { withBenchSite } from "./cluster-site.js";
import { BY_TOKEN, measure, type SshTarget } from "./ssh-measure.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, mb: { type: "string", default: "200" } },
});
const RUNS = Number(values.runs);
const MB = Number(values.mb);

type Figures = Awaited<ReturnType<typeof measure>>;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root");
  const results = new Map<string, Figures>();
  const work = `/tmp/atrium-bench-kssh-${randomBytes(3).toString("hex")}`;
  mkdirSync(work, { mode: 0o700 });
  const file = join(work, "payload.bin");
  const chunk = randomBytes(1024 * 1024);
  writeFileSync(file, Buffer.concat(Array.from({ length: MB }, () => chunk)));

  await withBenchSite("atrium-bssh", async ({ core, site, prepare }) => {
    await prepare();
    process.stderr.write(`deploying the team example to namespace ${site.namespace} ...\n`);
    const d = await runAtrium(["deploy", "-c", site.file], site.env);
    if (d.code !== 0) throw new Error(`deploy failed:\n${d.out}`);
    const hub = siteHub(site.base);
    const admin = await platformSecret(core, site.namespace, "atrium_api_token");
    await hub.spawnReady(admin, "grace");
    const tokenFile = join(work, "cluster-token");
    writeFileSync(tokenFile, `${await hub.userToken(admin, "grace")}\n`, { mode: 0o600 });
    const target: SshTarget = {
      label: "kubernetes gateway",
      host: "127.0.0.1",
      port: site.sshPort,
      user: "grace",
      auth: BY_TOKEN,
      wrap: ["sshpass", "-f", tokenFile],
    };
    process.stderr.write("measuring the cluster's gateway ...\n");
    results.set(target.label, await measure(target, RUNS, file, MB));
  });

  const fns: Array<() => unknown> = [];
  try {
    const p = await makePlatform(
      { after: (fn: () => unknown) => fns.push(fn) },
      {
        config: (n) => ({
          users: [{ name: n.name("admin"), admin: true }, { name: n.name("bench") }],
          dask: { enabled: false },
          videochat: { enabled: false },
        }),
      },
    );
    process.stderr.write(`deploying a throwaway local platform in ${p.root} ...\n`);
    const d = await p.deploy();
    if (d.code !== 0) throw new Error(`local deploy failed:\n${d.stdout}${d.stderr}`);
    const tokenFile = join(work, "local-token");
    writeFileSync(tokenFile, `${await p.userToken(p.name("bench"))}\n`, { mode: 0o600 });
    const target: SshTarget = {
      label: "local gateway",
      host: "127.0.0.1",
      port: (p.config.ssh as { port: number }).port,
      user: p.name("bench"),
      auth: BY_TOKEN,
      wrap: ["sshpass", "-f", tokenFile],
    };
    process.stderr.write("measuring the local gateway ...\n");
    results.set(target.label, await measure(target, RUNS, file, MB));
  } finally {
    for (const fn of fns.reverse()) await fn();
    rmSync(work, { recursive: true, force: true });
  }

  const w = (s: string) => process.stdout.write(`${s}\n`);
  const local = results.get("local gateway");
  w(`\nSSH with a hub token: login to first output (median of ${RUNS}) and scp of ${MB} MB (median of 3)`);
  w(`  ${"".padEnd(20)} ${"login ms".padStart(9)} ${"up MB/s".padStart(8)} ${"down MB/s".padStart(10)}`);
  for (const [label, f] of results) {
    const vs =
      local && label !== "local gateway"
        ? `   ${(f.loginMs / local.loginMs).toFixed(2)}x local login, ${(local.up / f.up).toFixed(2)}x/${(local.down / f.down).toFixed(2)}x local copy time`
        : "";
    w(
      `  ${label.padEnd(20)} ${f.loginMs.toFixed(1).padStart(9)} ${f.up.toFixed(0).padStart(8)} ${f.down.toFixed(0).padStart(10)}${vs}`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
