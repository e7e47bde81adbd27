/**
 * The local target applies what it renders: the accounts, shared folders, secrets
 * and services components read accounts.json, secrets.json and supervisor.json from
 * the render, so an edit there reaches what deploy does; and with the render as it
 * is, their specs are the ones the platform always gave (a deployed platform sees no
 * change).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { stableJson } from "../../src/lib/stable-json.js";
import { repoPath } from "../../src/paths.js";
import type { Component } from "../../src/targets/component.js";
import { secretPath, secretSpecs } from "../../src/targets/local/secrets.js";
import { localTarget } from "../../src/targets/local/target.js";

const file = repoPath("examples", "team.yaml");
const target = () => localTarget(loadConfig(file), file);

function component(components: Component[], name: string): Component {
  const c = components.find((x) => x.name === name);
  assert.ok(c, `no component ${name}`);
  return c;
}

function edit<T>(artifacts: Map<string, string>, path: string, change: (data: T) => void): void {
  const data = JSON.parse(artifacts.get(path) ?? "null") as T;
  change(data);
  artifacts.set(path, stableJson(data));
}

type Named = { name: string };

describe("local components from the rendered files", () => {
  it("take users, secrets and processes from accounts.json, secrets.json and supervisor.json", () => {
    const t = target();
    const dropped = t.platform.users[0]?.name;
    assert.ok(dropped);
    edit<{ users: Named[] }>(t.ctx.artifacts, "accounts.json", (a) => {
      a.users = a.users.filter((u) => u.name !== dropped);
    });
    edit<Named[]>(t.ctx.artifacts, "secrets.json", (s) =>
      s.splice(
        s.findIndex((x) => x.name === "cookie_secret"),
        1,
      ),
    );
    edit<{ processes: Named[] }>(t.ctx.artifacts, "supervisor.json", (s) => {
      s.processes = s.processes.filter((p) => p.name !== "envs");
    });
    const components = t.components();
    const users = (component(components, "accounts").spec as { users: Named[] }).users.map((u) => u.name);
    assert.deepEqual(
      users,
      t.platform.users.map((u) => u.name).filter((n) => n !== dropped),
    );
    const secrets = (component(components, "secrets").spec as Named[]).map((s) => s.name);
    assert.ok(secrets.length > 0 && !secrets.includes("cookie_secret"), secrets.join(", "));
    const processes = (component(components, "services").spec as { fingerprints: [string, string][] })
      .fingerprints;
    assert.deepEqual(
      processes.map(([name]) => name).includes("envs"),
      false,
      processes.map(([name]) => name).join(", "),
    );
  });

  it("give the specs the platform gave before, with the render unchanged", () => {
    const t = target();
    const { platform } = t;
    const { placement } = t.ctx;
    const components = t.components();
    assert.deepEqual(component(components, "accounts").spec, {
      users: platform.users.map((u) => ({
        name: u.name,
        uid: placement.accounts.get(u.name)?.uid ?? null,
        shell: placement.accounts.get(u.name)?.shell,
        home: placement.accounts.get(u.name)?.home,
        groups: u.groups,
      })),
      groups: platform.groups.map((g) => ({ name: g.name, gid: placement.groups.get(g.name)?.gid ?? null })),
    });
    assert.deepEqual(
      component(components, "secrets").spec,
      secretSpecs(platform).map((s) => ({ name: s.name, kind: s.kind, bytes: s.bytes ?? null })),
    );
    const rendered = JSON.parse(t.ctx.artifacts.get("secrets.json") ?? "[]") as Array<{
      name: string;
      file: string;
    }>;
    assert.deepEqual(
      rendered.map((s) => s.file),
      secretSpecs(platform).map((s) => secretPath(placement, s.name)),
    );
  });
});
