import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { validateText } from "../../src/config/load.js";
import {
  claimablePortWarnings,
  firstUnprivilegedPort,
  rootServicePorts,
} from "../../src/targets/local/root-ports.js";
import { localOf } from "./local-of.js";

function platformOf(yaml: string) {
  const r = validateText("atrium.yaml", yaml);
  assert.ok(r.config, JSON.stringify(r.problems));
  return localOf(r.config);
}

const BASE = "project:\n  name: ports\nusers:\n  - name: ada\n    admin: true\n";

describe("root services' ports", () => {
  it("are all below 1024 by default, so no other local user can listen on them", () => {
    const { platform, placement } = platformOf(`${BASE}dask:\n  enabled: true\n`);
    const ports = rootServicePorts(platform, placement);
    assert.equal(ports.length, 6);
    for (const [key, port] of ports) assert.ok(port < 1024, `${key} = ${port}`);
    assert.deepEqual(claimablePortWarnings(platform, placement, 1024), []);
  });

  it("warn for a port any user may take, naming the key and the fix", () => {
    const { platform, placement } = platformOf(`${BASE}target:\n  type: local\n  ports:\n    hub: 8081\n`);
    assert.deepEqual(claimablePortWarnings(platform, placement, 1024), [
      "target.ports.hub is 8081: any local user may listen on it while its service restarts; use a port below 1024",
    ]);
  });

  it("follow the kernel's first unprivileged port", () => {
    const { platform, placement } = platformOf(`${BASE}dask:\n  enabled: false\n`);
    assert.equal(
      claimablePortWarnings(platform, placement, 0).length,
      3,
      "hub, proxy API and envs: dask is off",
    );
    const dir = mkdtempSync(join(tmpdir(), "atrium-ports-"));
    writeFileSync(join(dir, "start"), "600\n");
    assert.equal(firstUnprivilegedPort(join(dir, "start")), 600);
    assert.equal(firstUnprivilegedPort(join(dir, "missing")), 1024);
  });
});
