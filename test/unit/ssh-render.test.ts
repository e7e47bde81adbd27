import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import type { SshServiceConfig } from "../../src/contracts/ssh-service.js";
import type { Platform } from "../../src/model/platform.js";
import { repoPath } from "../../src/paths.js";
import { renderLocal } from "../../src/targets/local/render.js";
import { renderSshConfig, SSH_CONFIG_FILE } from "../../src/targets/local/ssh-config.js";
import { renderSupervisor } from "../../src/targets/local/supervisor-spec.js";
import { localOf } from "./local-of.js";

const example = (name: string) => localOf(loadConfig(repoPath("examples", `${name}.yaml`)));
const team = example("team");
const quickstart = example("quickstart");

function withSsh(platform: Platform, enabled: boolean): Platform {
  return { ...platform, ssh: { ...platform.ssh, enabled } };
}

describe("SSH gateway render", () => {
  it("renders services/ssh.json with the team's users and their default profile's limits", () => {
    const config = JSON.parse(
      renderLocal(team.platform, team.placement).get(SSH_CONFIG_FILE) ?? "null",
    ) as SshServiceConfig;
    assert.deepEqual(config.listen, { address: "0.0.0.0", port: 8022 });
    assert.equal(config.hub_api_url, "http://127.0.0.1:881/hub/api");
    assert.equal(config.host_key_file, "/var/lib/atrium/secrets/ssh_host_ed25519_key");
    assert.equal(config.status_file, "/var/lib/atrium/state/run/ssh.json");
    assert.deepEqual(config.path_prepend, ["/opt/atrium/venvs/user/bin"]);
    assert.deepEqual(config.cgroup, { v1_root: "/sys/fs/cgroup", parent: "atrium/team/users" });
    assert.deepEqual(
      config.users.map((u) => u.name),
      ["ada", "alan", "barbara", "edsger", "grace", "katherine"],
    );
    assert.deepEqual(config.users[0], {
      name: "ada",
      home: "/home/ada",
      shell: "/bin/bash",
      profile: "small",
      limits: {
        mem_limit: 2 * 1024 ** 3,
        mem_guarantee: 512 * 1024 ** 2,
        cpu_limit: 1,
        cpu_guarantee: 0.25,
        pids_limit: 4096,
      },
    });
  });

  it("gives users of a file without profiles no memory or CPU limits, and the default pids limit", () => {
    const config = renderSshConfig(quickstart.platform, quickstart.placement);
    assert.ok(config.users.length > 0);
    for (const u of config.users) {
      assert.equal(u.profile, "default");
      assert.deepEqual(u.limits, {
        mem_limit: null,
        mem_guarantee: null,
        cpu_limit: null,
        cpu_guarantee: null,
        pids_limit: 4096,
      });
    }
  });

  it("runs the gateway under the supervisor: reloaded when its config changes, restarted for its port or host key", () => {
    const ssh = renderSupervisor(team.platform, team.placement).processes.find((p) => p.name === "ssh");
    assert.deepEqual(ssh?.command, [
      "@atrium",
      "service",
      "ssh",
      "--config",
      "/opt/atrium/etc/services/ssh.json",
    ]);
    assert.deepEqual(ssh?.secretEnv, {});
    assert.deepEqual(ssh?.restartOn, ["component:ssh-host-key", "atrium:code"]);
    assert.deepEqual(ssh?.reloadOn, ["artifact:services/ssh.json"]);
    const config = renderSshConfig(team.platform, team.placement);
    assert.deepEqual(ssh?.restartValues, { listen: config.listen, host_key_file: config.host_key_file });
  });

  it("renders neither the config nor the process with ssh.enabled false", () => {
    const platform = withSsh(team.platform, false);
    assert.equal(renderLocal(platform, team.placement).has(SSH_CONFIG_FILE), false);
    assert.equal(
      renderSupervisor(platform, team.placement).processes.some((p) => p.name === "ssh"),
      false,
    );
  });
});
