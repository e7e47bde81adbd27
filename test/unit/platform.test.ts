/**
 * The model: the Platform holds only what every target shares. No folders, ports,
 * cgroups or Linux accounts; environments carry their spec text; auth and the
 * secrets list in the model's own shape.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { AtriumError } from "../../src/errors.js";
import { derivePlatform } from "../../src/model/platform.js";
import { repoPath } from "../../src/paths.js";
import { configOf } from "./config-of.js";

const tmp = mkdtempSync(join(tmpdir(), "atrium-platform-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const team = derivePlatform(loadConfig(repoPath("examples", "team.yaml")));

describe("the Platform", () => {
  it("holds no placement: no paths, ports, cgroups, homes, shells, uids or gids", () => {
    for (const key of ["paths", "network", "cgroupParent"]) assert.equal(key in team, false, key);
    for (const u of team.users) assert.deepEqual(Object.keys(u).sort(), ["admin", "groups", "name"]);
    for (const g of team.groups)
      assert.deepEqual(Object.keys(g).sort(), ["description", "members", "name", "shared"]);
    const withIds = derivePlatform(
      configOf(
        "project: {name: ids}\ngroups: [{name: lab, gid: 3001}]\nusers: [{name: ada, admin: true, uid: 2001, shell: /bin/zsh, groups: [lab]}]\n",
      ),
    );
    assert.deepEqual(withIds.users, [{ name: "ada", admin: true, groups: ["lab"] }]);
    assert.deepEqual(withIds.groups, [{ name: "lab", description: "", shared: true, members: ["ada"] }]);
  });

  it("says which groups share a folder, not where", () => {
    assert.deepEqual(
      team.groups.map((g) => [g.name, g.shared]),
      [
        ["analysts", true],
        ["modelers", true],
        ["ops", false],
      ],
    );
  });

  it("carries each environment's spec text, read from its file beside the config", () => {
    mkdirSync(join(tmp, "envs"), { recursive: true });
    writeFileSync(join(tmp, "envs", "ml.yaml"), "name: ml\ndependencies: [numpy]\n");
    const config = configOf(
      "project: {name: envs}\nenvironments:\n  - {name: ml, file: envs/ml.yaml}\n  - {name: py, python: '3.12', dependencies: [pandas]}\n",
    );
    const platform = derivePlatform(config, tmp);
    assert.deepEqual(platform.environments, [
      {
        name: "ml",
        namespace: "global",
        source: join(tmp, "envs", "ml.yaml"),
        spec: "name: ml\ndependencies: [numpy]\n",
      },
      {
        name: "py",
        namespace: "global",
        source: "atrium.yaml",
        spec: "name: py\ndependencies:\n  - python=3.12\n  - pandas\n",
      },
    ]);
  });

  it("refuses an environment file it can't read, naming the key and the path", () => {
    const config = configOf("project: {name: envs}\nenvironments:\n  - {name: gone, file: envs/gone.yaml}\n");
    assert.throws(
      () => derivePlatform(config, tmp),
      (err: unknown) =>
        err instanceof AtriumError &&
        err.code === "file-not-found" &&
        err.message ===
          `environments[0].file (global/gone): can't read ${join(tmp, "envs", "gone.yaml")} (ENOENT)` &&
        err.hint === "fix environments[].file: a path relative to the folder of atrium.yaml",
    );
  });

  it("gives auth in its own shape, not the config's", () => {
    assert.deepEqual(team.auth, { type: "password" });
    const sso = derivePlatform(
      configOf(
        "project: {name: sso}\nauth: {type: oidc, preset: github, client_id: abc, client_secret_env: GH_SECRET, allowed_groups: [org/team], group_map: {org/team: lab}}\ngroups: [{name: lab}]\n",
      ),
    );
    assert.deepEqual(sso.auth, {
      type: "oidc",
      preset: "github",
      issuer: null,
      clientId: "abc",
      clientSecretEnv: "GH_SECRET",
      usernameClaim: null,
      groupsClaim: null,
      scopes: null,
      allowedGroups: ["org/team"],
      adminGroups: [],
      groupMap: { "org/team": "lab" },
    });
  });

  it("lists the secrets it needs by name and kind, Dask's only with Dask on", () => {
    const names = (dask: boolean) =>
      derivePlatform(configOf(`project: {name: secrets}\ndask: {enabled: ${dask}}\n`)).secrets.map(
        (s) => `${s.name}:${s.kind}`,
      );
    assert.deepEqual(names(false), [
      "cookie_secret:random",
      "proxy_auth_token:random",
      "passwords.json:json-object",
      "envs_api_token:random",
      "atrium_api_token:random",
    ]);
    assert.deepEqual(names(true).slice(0, 2), [
      "dask_gateway_api_token:random",
      "dask_gateway_db_key:fernet",
    ]);
  });
});
