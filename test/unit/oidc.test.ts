/**
 * Single sign-on on the local target: what the hub JSON and the supervisor spec say,
 * the client secret's handling (never rendered, refused when missing), status text.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { RESERVED_NAMES } from "../../src/config/rules.js";
import type { Config } from "../../src/config/schema.js";
import { AtriumError } from "../../src/errors.js";
import { derivePlatform } from "../../src/model/platform.js";
import { repoPath } from "../../src/paths.js";
import type { LocalContext } from "../../src/targets/local/context.js";
import { oidcSecretComponent } from "../../src/targets/local/oidc.js";
import { renderLocal } from "../../src/targets/local/render.js";
import { checkClientSecret, describeAuth, takeClientSecret } from "../../src/targets/oidc-client-secret.js";
import { configOf } from "./config-of.js";
import { type Local, localOf } from "./local-of.js";

const tmp = mkdtempSync(join(tmpdir(), "atrium-oidc-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(name: string): Config {
  return configOf(readFileSync(repoPath("test", "fixtures", "configs", name), "utf8"));
}

const keycloak = (dataDir = "/var/lib/atrium", secretEnv = "ATRIUM_TEST_SECRET") =>
  configOf(`
project: {name: sso}
target: {type: local, data_dir: ${dataDir}, home_dir: /srv/home, shared_dir: /srv/shared}
auth:
  type: oidc
  preset: keycloak
  issuer: https://id.example.com/realms/team
  client_id: atrium
  client_secret_env: ${secretEnv}
  allowed_groups: [staff]
  admin_groups: [platform-admins]
  group_map: {data-science: analysts}
groups: [{name: analysts}]
users: [{name: ada, groups: [analysts]}]
`);

const hubJson = ({ platform, placement }: Local) =>
  JSON.parse(renderLocal(platform, placement).get("hub/atrium_hub.json") ?? "{}") as Record<string, unknown>;
const hubProcess = ({ platform, placement }: Local) =>
  (
    JSON.parse(renderLocal(platform, placement).get("supervisor.json") ?? "{}") as {
      processes: Array<{ name: string; secretEnv: Record<string, string>; restartOn: string[] }>;
    }
  ).processes.find((p) => p.name === "hub");

describe("oidc render", () => {
  it("renders the auth section the hub glue reads, defaults left to the glue", () => {
    assert.deepEqual(hubJson(localOf(keycloak())).auth, {
      type: "oidc",
      preset: "keycloak",
      issuer: "https://id.example.com/realms/team",
      client_id: "atrium",
      client_secret_env: "ATRIUM_TEST_SECRET",
      username_claim: null,
      groups_claim: null,
      scopes: null,
      allowed_groups: ["staff"],
      admin_groups: ["platform-admins"],
      group_map: { "data-science": "analysts" },
      linux_accounts: true,
      home_dir: "/srv/home",
      default_shell: "/bin/bash",
      shared_dir: "/srv/shared",
      accounts_file: "/var/lib/atrium/hub/oidc-accounts.json",
      reserved_names: [...RESERVED_NAMES].sort(),
    });
  });

  it("keeps the claims and scopes the file gives", () => {
    const auth = hubJson(localOf(fixture("oidc-keycloak.happy.auth.yaml"))).auth as Record<string, unknown>;
    assert.deepEqual(
      [auth.username_claim, auth.groups_claim, auth.scopes],
      ["preferred_username", "groups", ["openid", "profile", "email", "groups"]],
    );
  });

  it("hands the secret to the hub as the variable the file names, from the root-only file", () => {
    const hub = hubProcess(localOf(keycloak()));
    assert.deepEqual(hub?.secretEnv, { ATRIUM_TEST_SECRET: "/var/lib/atrium/secrets/oidc_client_secret" });
    assert.ok(hub?.restartOn.includes("component:oidc-secret"));
  });

  it("gives the hub no secret environment with password login", () => {
    const quickstart = localOf(configOf("project: {name: pw}\nusers: [{name: ada, admin: true}]\n"));
    assert.deepEqual(hubProcess(quickstart)?.secretEnv, {});
    assert.equal((hubJson(quickstart).auth as { type: string }).type, "password");
  });

  it("never renders the secret itself", () => {
    const env: NodeJS.ProcessEnv = { ATRIUM_TEST_SECRET: "the-very-secret-value" };
    takeClientSecret("ATRIUM_TEST_SECRET", env);
    const all = [...renderLocal(localOf(keycloak()).platform, localOf(keycloak()).placement).values()].join(
      "\n",
    );
    assert.doesNotMatch(all, /the-very-secret-value/);
  });
});

describe("oidc client secret", () => {
  it("is taken out of the environment once read", () => {
    const env: NodeJS.ProcessEnv = { S1: "  abc \n", OTHER: "x" };
    assert.equal(takeClientSecret("S1", env), "abc");
    assert.deepEqual(env, { OTHER: "x" });
    assert.equal(takeClientSecret("S1", env), "abc");
    assert.equal(takeClientSecret("EMPTY", { EMPTY: " " }), undefined);
  });

  it("stops deploy before any change when the variable is not set, naming it", () => {
    const platform = derivePlatform(keycloak());
    assert.throws(
      () => checkClientSecret(platform, {}),
      (err: unknown) =>
        err instanceof AtriumError &&
        err.code === "prerequisite" &&
        err.message ===
          "the OIDC client secret is missing: $ATRIUM_TEST_SECRET (auth.client_secret_env) is not set; nothing was changed" &&
        err.hint ===
          "export ATRIUM_TEST_SECRET=<the client secret from your provider> and deploy again" +
            " (with sudo: sudo --preserve-env=ATRIUM_TEST_SECRET atrium deploy ...)",
    );
    assert.doesNotThrow(() => checkClientSecret(platform, { ATRIUM_TEST_SECRET: "s" }));
    assert.doesNotThrow(() => checkClientSecret(derivePlatform(configOf("project: {name: pw}\n")), {}));
  });

  it("is stored root-only, and a new secret changes the component's spec", async () => {
    const ctx = {
      ...localOf(keycloak(join(tmp, "data"))),
      artifacts: new Map(),
      systemd: false,
    } as LocalContext;
    process.env.ATRIUM_TEST_SECRET = "first-secret";
    const first = oidcSecretComponent(ctx);
    assert.ok(first);
    const result = await first.apply(undefined, { detail() {}, important() {} });
    assert.equal(result?.note, "stored");
    const file = join(tmp, "data", "secrets", "oidc_client_secret");
    assert.equal(readFileSync(file, "utf8"), "first-secret\n");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(process.env.ATRIUM_TEST_SECRET, undefined, "deploy's children would inherit the secret");
    assert.doesNotMatch(JSON.stringify(first.spec), /first-secret/);
    assert.equal(first.present?.(), true);

    const digest = (c: ReturnType<typeof oidcSecretComponent>) =>
      (c?.spec as { digest: string | null } | undefined)?.digest;
    const withEnv = (name: string) => ({
      ...ctx,
      ...localOf(keycloak(join(tmp, "data"), name)),
    });
    process.env.ATRIUM_TEST_SECRET_2 = "second-secret";
    const rotated = oidcSecretComponent(withEnv("ATRIUM_TEST_SECRET_2"));
    assert.notEqual(digest(rotated), digest(first));
    assert.equal((await rotated?.apply(undefined, { detail() {}, important() {} }))?.note, "replaced");
    // without the variable (plan, status) the stored secret stands in: nothing looks changed
    assert.equal(digest(oidcSecretComponent(withEnv("ATRIUM_TEST_SECRET_3"))), digest(rotated));
  });

  it("is not a component with password login", () => {
    assert.equal(oidcSecretComponent(localOf(configOf("project: {name: pw}\n")) as LocalContext), undefined);
  });
});

describe("oidc status", () => {
  it("names the mode, the provider and who may log in", () => {
    assert.equal(
      describeAuth(derivePlatform(keycloak())),
      "oidc via Keycloak https://id.example.com/realms/team, client atrium; may log in: users in the file and groups staff",
    );
    assert.equal(
      describeAuth(derivePlatform(fixture("oidc-github.happy.auth.yaml"))),
      "oidc via GitHub github.com, client Iv1.8a61f9b3a7aba766; may log in: users in the file and groups acme/data-team",
    );
    assert.equal(
      describeAuth(derivePlatform(configOf("project: {name: pw}\n"))),
      "password (hashes kept by the hub)",
    );
  });
});
