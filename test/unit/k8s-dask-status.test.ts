import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type DaskPod, daskStatusLines } from "../../src/targets/kubernetes/cluster/dask-status.js";

const pod = (
  part: string,
  ready: boolean,
  labels: Record<string, string> = {},
  phase = "Running",
): DaskPod => ({
  part,
  phase,
  ready,
  labels,
});
const of = (cluster: string, user: string) => ({
  "atrium.dev/dask-cluster": cluster,
  "atrium.dev/user": user,
});

describe("status's Dask lines on the cluster", () => {
  it("lists each user's clusters with their ready workers, users in order", () => {
    const lines = daskStatusLines([
      pod("dask-gateway", true),
      pod("dask-scheduler", true, of("c2", "grace")),
      pod("dask-worker", true, of("c2", "grace")),
      pod("dask-worker", false, of("c2", "grace"), "Pending"),
      pod("dask-scheduler", false, of("c1", "alan"), "Pending"),
      pod("singleuser", true, of("c2", "grace")),
    ]);
    assert.deepEqual(lines, [
      "Dask gateway: ready",
      "Dask clusters: 2",
      "  alan: c1 pending, 0 of 0 workers ready",
      "  grace: c2 running, 1 of 2 workers ready",
    ]);
  });

  it("says when the gateway is not running or not ready", () => {
    assert.deepEqual(daskStatusLines([]), ["Dask gateway: not running", "Dask clusters: 0"]);
    assert.equal(
      daskStatusLines([pod("dask-gateway", false, {}, "Pending")])[0],
      "Dask gateway: not ready (Pending)",
    );
  });
});
