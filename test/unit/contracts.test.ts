import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import {
  CONTRACTS,
  type ContractName,
  contractJsonSchemaText,
  contractSchemaFile,
} from "../../src/contracts/index.js";
import { parseContract } from "../../src/contracts/read.js";
import { repoPath } from "../../src/paths.js";
import { targetFor } from "../../src/targets/registry.js";
import { KUBERNETES_EXAMPLES, LOCAL_EXAMPLES } from "./examples.js";

/** Each rendered JSON artifact and the contract it is written to. */
const RENDERED: Record<string, ContractName> = {
  "hub/atrium_hub.json": "hub-settings",
  "dask-gateway/gateway.json": "dask-gateway",
  "services/dask-auth.json": "dask-auth",
  "services/envs.json": "envs-service",
  "services/ssh.json": "ssh-service",
};

describe("contracts", () => {
  for (const name of Object.keys(CONTRACTS) as ContractName[]) {
    it(`${name}: the committed JSON Schema is the generated one (npm run contracts rewrites it)`, () => {
      assert.equal(readFileSync(repoPath(contractSchemaFile(name)), "utf8"), contractJsonSchemaText(name));
    });
  }

  for (const example of LOCAL_EXAMPLES) {
    it(`${example}: every rendered contract file parses with its contract`, () => {
      const artifacts = targetFor(
        loadConfig(repoPath("examples", `${example}.yaml`)),
        repoPath("examples", `${example}.yaml`),
      ).render();
      const seen: string[] = [];
      for (const [file, name] of Object.entries(RENDERED)) {
        const text = artifacts.get(file);
        if (text === undefined) continue;
        seen.push(file);
        const data: unknown = JSON.parse(text);
        // the parsed value is the file itself: nothing dropped, nothing defaulted in
        assert.deepEqual(parseContract(CONTRACTS[name], data, file), data);
      }
      assert.ok(seen.includes("hub/atrium_hub.json"));
    });
  }

  for (const example of KUBERNETES_EXAMPLES) {
    it(`${example}: the hub settings in their ConfigMap parse with their contract`, () => {
      const file = repoPath("examples", `${example}.yaml`);
      const configMap = JSON.parse(
        targetFor(loadConfig(file), file).render().get("3-config/configmap-hub-settings.json") ?? "{}",
      ) as { data: Record<string, string> };
      const data: unknown = JSON.parse(configMap.data["atrium_hub.json"] ?? "{}");
      assert.deepEqual(parseContract(CONTRACTS["hub-settings"], data, "atrium_hub.json"), data);
    });
  }

  it("names the file and every problem at once", () => {
    const artifacts = targetFor(
      loadConfig(repoPath("examples", "team.yaml")),
      repoPath("examples", "team.yaml"),
    ).render();
    const hub = JSON.parse(artifacts.get("hub/atrium_hub.json") ?? "{}");
    hub.users[1].home = "home/x";
    hub.profiles[0].mem_limit = "4G";
    hub.extra = 1;
    assert.throws(
      () => parseContract(CONTRACTS["hub-settings"], hub, "/etc/hub.json"),
      (err: Error) => {
        assert.equal(
          err.message,
          [
            "/etc/hub.json does not follow its contract:",
            "  /etc/hub.json  users[1].home  expected an absolute path",
            "  /etc/hub.json  profiles[0].mem_limit  Invalid input: expected number, received string",
            '  /etc/hub.json  (top)  Unrecognized key: "extra"',
          ].join("\n"),
        );
        return true;
      },
    );
  });

  it("refuses a cgroup parent that leaves its root", () => {
    const schema = CONTRACTS["envs-service"].shape.cgroup.unwrap().shape.parent;
    for (const bad of ["../x", "a/../b", "/abs", "a//b", "", ".", "a/."]) {
      assert.equal(schema.safeParse(bad).success, false, bad);
    }
    for (const good of ["atrium/team/users", "a", "a.b/..c"])
      assert.equal(schema.safeParse(good).success, true, good);
  });
});
