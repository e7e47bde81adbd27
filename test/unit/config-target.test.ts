/** The target block: one per kind of target, and the local block read through localTargetOf. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/schema.js";
import { localTargetOf } from "../../src/config/target.js";
import { AtriumError } from "../../src/errors.js";

const parse = (target?: unknown) => configSchema.parse({ project: { name: "team" }, target });

describe("target block", () => {
  it("is local with every default when the file has none", () => {
    const local = localTargetOf(parse());
    assert.equal(local.type, "local");
    assert.equal(local.prefix, "/opt/atrium");
    assert.equal(local.ports.hub, 881);
  });

  it("keeps each kind of target's own keys, and no local key beside another type", () => {
    assert.deepEqual(parse({ type: "gcp", project: "p", region: "europe-west1" }).target, {
      type: "gcp",
      project: "p",
      region: "europe-west1",
    });
    assert.equal(
      configSchema.safeParse({ project: { name: "team" }, target: { type: "aws", port: 1 } }).success,
      false,
    );
  });

  it("gives a kubernetes block its stated defaults: LoadBalancer, pinned upstream images, PyPI", () => {
    const target = parse({ type: "kubernetes", storage: { nfs: { server: "nfs", path: "/x" } } }).target;
    assert.deepEqual(target, {
      type: "kubernetes",
      expose: { type: "LoadBalancer" },
      https: { mode: "none" },
      storage: { nfs: { server: "nfs", path: "/x" } },
      node_pools: {},
      images: {
        hub: "ghcr.io/astral-sh/uv:0.13.9-python3.11-bookworm-slim",
        proxy: "quay.io/jupyterhub/configurable-http-proxy:4.6.3",
        user: "ghcr.io/astral-sh/uv:0.13.9-python3.11-bookworm-slim",
      },
      index_url: "https://pypi.org/simple",
      hub_storage: { size: "1Gi" },
      network_policy: { require_enforcement: true },
    });
  });

  it("localTargetOf refuses a target that is not local, as not supported yet", () => {
    assert.throws(
      () =>
        localTargetOf(
          parse({ type: "kubernetes", namespace: "team", storage: { host_path: { path: "/srv" } } }),
        ),
      (err) =>
        err instanceof AtriumError &&
        err.code === "not-supported" &&
        /"kubernetes" is not supported yet/.test(err.message),
    );
  });
});
