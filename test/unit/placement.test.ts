/** The local target's placement: where the Platform sits on this machine, from the local target block. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { repoPath } from "../../src/paths.js";
import { accountOf, derivePlacement, groupOf, homeOf } from "../../src/targets/local/placement.js";
import { configOf } from "./config-of.js";

const team = derivePlacement(loadConfig(repoPath("examples", "team.yaml")));

describe("local placement", () => {
  it("puts the platform in the default folders, with its config, secrets and venvs below them", () => {
    assert.deepEqual(team.paths, {
      prefix: "/opt/atrium",
      dataDir: "/var/lib/atrium",
      stateDir: "/var/lib/atrium/state",
      logDir: "/var/log/atrium",
      sharedDir: "/srv/atrium/shared",
      envsDir: "/opt/atrium/environments",
      homeDir: "/home",
      etcDir: "/opt/atrium/etc",
      secretsDir: "/var/lib/atrium/secrets",
      hubDataDir: "/var/lib/atrium/hub",
      hubVenv: "/opt/atrium/venvs/hub",
      userVenv: "/opt/atrium/venvs/user",
      runDir: "/var/lib/atrium/state/run",
    });
    assert.equal(team.cgroupParent, "atrium/team");
  });

  it("takes the address, port, https files and loopback ports from the target block", () => {
    const p = derivePlacement(
      configOf(
        "project: {name: net}\ntarget: {type: local, address: 127.0.0.1, port: 8443, https: {mode: manual, cert: /etc/c.pem, key: /etc/k.pem}, ports: {hub: 9081}, prefix: /srv/atrium}\n",
      ),
    );
    assert.equal(p.network.address, "127.0.0.1");
    assert.equal(p.network.port, 8443);
    assert.deepEqual(p.network.https, { mode: "manual", cert: "/etc/c.pem", key: "/etc/k.pem" });
    assert.equal(p.network.ports.hub, 9081);
    assert.equal(p.paths.etcDir, "/srv/atrium/etc");
  });

  it("gives each user a home under home_dir, their shell and uid; each group its gid and shared folder", () => {
    const p = derivePlacement(
      configOf(
        "project: {name: ids}\ntarget: {type: local, home_dir: /srv/home, shared_dir: /srv/shared}\ngroups: [{name: lab, gid: 3001}, {name: quiet, shared_folder: false}]\nusers: [{name: ada, admin: true, uid: 2001, shell: /bin/zsh}, {name: bob}]\n",
      ),
    );
    assert.deepEqual(accountOf(p, "ada"), { home: "/srv/home/ada", shell: "/bin/zsh", uid: 2001 });
    assert.deepEqual(accountOf(p, "bob"), { home: "/srv/home/bob", shell: "/bin/bash" });
    assert.deepEqual(groupOf(p, "lab"), { gid: 3001, sharedFolder: "/srv/shared/lab" });
    assert.deepEqual(groupOf(p, "quiet"), { sharedFolder: null });
    assert.equal(homeOf(p, "ada"), "/srv/home/ada");
    assert.equal(homeOf(p, "signed-on"), "/srv/home/signed-on", "an account made at sign-on");
    assert.throws(() => accountOf(p, "nobody"), /user nobody has no placement/);
    assert.throws(() => groupOf(p, "none"), /group none has no placement/);
  });
});
