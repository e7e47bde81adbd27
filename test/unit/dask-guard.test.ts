/**
 * The Dask dashboard guard decides on the path the gateway will serve: encoded,
 * doubled-slash and dot-segment spellings of a dashboard path are dashboards too.
 * The guard runs for real in front of a small upstream that records what reached it
 * and answers ownership questions for one owner.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { canonicalUrl } from "../../src/services/dask-auth/canonical-path.js";
import { createGuard } from "../../src/services/dask-auth/guard.js";
import { rawGet } from "../raw-get.js";

const PREFIX = "/services/dask-gateway";

function listen(server: Server): Promise<number> {
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port)));
}

describe("canonical request paths", () => {
  it("decodes once, folds slashes and resolves dot segments", () => {
    assert.deepEqual(canonicalUrl("/a/%63lusters/x/status?y=1"), {
      path: "/a/clusters/x/status",
      query: "?y=1",
    });
    assert.deepEqual(canonicalUrl("/a//clusters///x/"), { path: "/a/clusters/x/", query: "" });
    assert.deepEqual(canonicalUrl("/a/api/../clusters/./x"), { path: "/a/clusters/x", query: "" });
    assert.deepEqual(canonicalUrl("/../../etc"), { path: "/etc", query: "" });
  });

  it("refuses spellings that would mean something else once decoded", () => {
    for (const bad of [
      "/a/%2563lusters",
      "/a/%3Fx",
      "/a/%23x",
      "/a/%5cx",
      "/a/%00",
      "/a/%E0%A4%A",
      "relative",
    ])
      assert.equal(canonicalUrl(bad), undefined, bad);
  });
});

describe("the dashboard guard", () => {
  const seen: string[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.url ?? "");
    const own =
      req.url === `${PREFIX}/api/v1/clusters/c1` && req.headers.authorization === "jupyterhub owner";
    if (req.url?.startsWith(`${PREFIX}/api/`)) res.writeHead(own ? 200 : 404).end("{}");
    else res.writeHead(200).end("bokeh dashboard");
  });
  before(async () => {
    await listen(upstream);
  });
  after(() => {
    upstream.close();
  });

  it("serves the owner and refuses another user on every spelling of the path", async () => {
    const up = (upstream.address() as AddressInfo).port;
    const server = createGuard({
      upstream: `http://127.0.0.1:${up}`,
      prefix: PREFIX,
      hubApiUrl: "http://127.0.0.1:9/hub/api",
      hubPrefix: "/hub/",
      clientId: "service-dask-gateway",
      clientSecret: "not-used",
      log: () => {},
    });
    const port = await listen(server);
    try {
      const owner = await rawGet(port, `${PREFIX}/clusters/c1/status`, "owner");
      assert.equal(owner.status, 200);
      assert.equal(owner.text, "bokeh dashboard");
      const spellings = [
        `${PREFIX}/clusters/c1/status`,
        `${PREFIX}/%63lusters/c1/status`,
        `${PREFIX}/%63%6C%75%73%74%65%72%73/c1/status`,
        `${PREFIX}//clusters/c1/status`,
        `${PREFIX}/./clusters/c1/status`,
        `${PREFIX}/api/../clusters/c1/status`,
        `${PREFIX}/clusters/%63%31/status`,
        `${PREFIX}/%2563lusters/c1/status`,
      ];
      for (const path of spellings) {
        const other = await rawGet(port, path, "intruder");
        assert.ok([400, 403].includes(other.status), `${path} -> ${other.status}`);
        assert.doesNotMatch(other.text, /bokeh/, path);
        const nobody = await rawGet(port, path);
        assert.ok([302, 400].includes(nobody.status), `${path} (no token) -> ${nobody.status}`);
      }
      assert.ok(!seen.some((p) => /status$/.test(p) && p !== `${PREFIX}/clusters/c1/status`), seen.join(" "));
    } finally {
      server.close();
    }
  });
});
