/** The SSH gateway on the kubernetes target: its render, and its pure parts (channel framing, pod ownership, forwards, status lines). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubeSshServiceConfig } from "../../src/contracts/kube-ssh-service.js";
import {
  closeFrame,
  execEnd,
  execQuery,
  frame,
  resizeFrame,
  splitFrame,
} from "../../src/services/ssh/kube/channels.js";
import { podCommand } from "../../src/services/ssh/kube/pod-exec.js";
import { forwardRefusal } from "../../src/services/ssh/kube/pod-forward.js";
import { sftpCommand } from "../../src/services/ssh/kube/pod-session.js";
import { notTheirs } from "../../src/services/ssh/kube/user-server.js";
import { sshStatusLines } from "../../src/targets/kubernetes/cluster/ssh-status.js";
import { renderKubernetes } from "../../src/targets/kubernetes/render.js";
import { renderSshConfig, renderSshGateway } from "../../src/targets/kubernetes/ssh-gateway.js";
import { TEST_SOURCES_HASHES, teamKube } from "./k8s-of.js";

// biome-ignore lint/suspicious/noExplicitAny: the tests read deep into plain JSON objects
const spec = (o: unknown) => (o as { spec: Record<string, any> }).spec;

describe("the SSH gateway's render on kubernetes", () => {
  it("gives every user of the file their uid, pod home and key folder, in a config its contract accepts", () => {
    const k = teamKube();
    const config = renderSshConfig(k.input);
    assert.equal(kubeSshServiceConfig.safeParse(config).success, true);
    const grace = config.users.find((u) => u.name === "grace");
    assert.equal(grace?.uid, k.input.placement.users.get("grace")?.uid);
    assert.equal(grace?.home, "/home/grace");
    assert.equal(grace?.keys_home, "/srv/homes/grace");
    assert.equal(config.users.length, k.input.platform.users.length);
  });

  it("runs as root with one capability, every mount read-only but /tmp, the Role in the namespace only", () => {
    const objects = renderSshGateway(teamKube().input).map((o) => o.object);
    const deployment = objects.find((o) => o.kind === "Deployment");
    const box = spec(spec(deployment).template).containers[0];
    assert.deepEqual(box.securityContext.capabilities, { drop: ["ALL"], add: ["DAC_OVERRIDE"] });
    assert.equal(box.securityContext.readOnlyRootFilesystem, true);
    for (const m of box.volumeMounts)
      assert.equal(m.readOnly === true || m.mountPath === "/tmp", true, m.mountPath);
    const role = objects.find((o) => o.kind === "Role") as unknown as {
      rules: Array<{ resources: string[]; verbs: string[]; resourceNames?: string[] }>;
    };
    const resources = role.rules.flatMap((r) => r.resources);
    assert.deepEqual(resources.sort(), ["configmaps", "configmaps", "pods", "pods/exec", "pods/portforward"]);
    for (const r of role.rules.filter((r) => r.resources.includes("configmaps")))
      assert.ok(r.resourceNames?.length);
    assert.equal(
      objects.some((o) => o.kind === "ClusterRole"),
      false,
    );
  });

  it("exposes its own node port, and a load balancer behind an ingress", () => {
    const nodePort = teamKube((t) => t.replace("port: 30080", "port: 30080\n    ssh_port: 30022"));
    const service = renderSshGateway(nodePort.input).find((o) => o.object.kind === "Service")?.object;
    assert.equal(spec(service).type, "NodePort");
    assert.equal(spec(service).ports[0].nodePort, 30022);
    const ingress = teamKube((t) =>
      t.replace("    type: NodePort\n    port: 30080\n", "    type: Ingress\n    host: team.example.com\n"),
    );
    const lb = renderSshGateway(ingress.input).find((o) => o.object.kind === "Service")?.object;
    assert.equal(spec(lb).type, "LoadBalancer");
    assert.equal(spec(lb).ports[0].port, 8022);
  });

  it("is not restarted by a new user: its pod template does not change", () => {
    const template = (text?: (t: string) => string) => {
      const k = teamKube(text);
      const r = renderKubernetes(k.platform, k.block, k.identities, TEST_SOURCES_HASHES);
      return JSON.stringify(
        r.objects.find((o) => o.object.kind === "Deployment" && o.object.metadata.name === "ssh-gateway"),
      );
    };
    const added = (t: string) =>
      t.replace("\nprofiles:\n", "  - name: linus\n    groups: [analysts]\n\nprofiles:\n");
    assert.equal(template(added), template());
  });

  it("renders nothing with ssh off", () => {
    const k = teamKube((t) => t.replace("ssh:\n  enabled: true\n", "ssh:\n  enabled: false\n"));
    assert.deepEqual(renderSshGateway(k.input), []);
  });
});

describe("the cluster gateway's pure parts", () => {
  it("frames exec channels as the API server reads them", () => {
    assert.deepEqual([...frame(0, "ab")], [0, 97, 98]);
    assert.deepEqual([...closeFrame(0)], [255, 0]);
    assert.deepEqual(JSON.parse(resizeFrame(80, 24).subarray(1).toString()), { Width: 80, Height: 24 });
    assert.deepEqual(splitFrame(Buffer.of(1, 120)), { channel: 1, data: Buffer.of(120) });
    assert.equal(splitFrame(Buffer.alloc(0)), undefined);
    const q = new URLSearchParams(execQuery("notebook", ["sh", "-c", "echo a b"], true));
    assert.deepEqual(q.getAll("command"), ["sh", "-c", "echo a b"]);
    assert.equal(q.get("stderr"), "false");
  });

  it("reads the exit code from the final status", () => {
    assert.deepEqual(execEnd('{"status":"Success"}'), { code: 0 });
    assert.deepEqual(
      execEnd(
        '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"42"}]}}',
      ),
      { code: 42 },
    );
    assert.deepEqual(execEnd('{"status":"Failure","message":"container not found"}'), {
      error: "container not found",
    });
    assert.ok("error" in execEnd("not json"));
  });

  it("passes words to the pod without a shell's quoting", () => {
    const argv = podCommand({ HOME: "/home/a", X: "it's $(here)" }, ["bash", "-c", "echo 'x'"]);
    assert.deepEqual(argv.slice(3), [
      "atrium-ssh",
      "HOME=/home/a",
      "X=it's $(here)",
      "--",
      "bash",
      "-c",
      "echo 'x'",
    ]);
    assert.match(sftpCommand(["/usr/lib/openssh/sftp-server"])[2] ?? "", /exec "\$p"/);
  });

  it("takes a pod as the user's only when the hub made it theirs and it runs as their uid", () => {
    const user = {
      name: "grace",
      uid: 10001,
      keys_home: "/srv/homes/grace",
      home: "/home/grace",
      shell: "/bin/bash",
    };
    const pod = (annotations: Record<string, string>, uid: number, phase = "Running") => ({
      metadata: { name: "jupyter-grace", annotations },
      spec: { containers: [{ name: "notebook", securityContext: { runAsUser: uid } }] },
      status: { phase, conditions: [{ type: "Ready", status: "True" }] },
    });
    assert.equal(notTheirs(pod({ "hub.jupyter.org/username": "grace" }, 10001), user, "notebook"), undefined);
    assert.match(
      notTheirs(pod({ "hub.jupyter.org/username": "alan" }, 10001), user, "notebook") ?? "",
      /another user/,
    );
    assert.match(
      notTheirs(pod({ "hub.jupyter.org/username": "grace" }, 10002), user, "notebook") ?? "",
      /uid 10002/,
    );
    assert.match(
      notTheirs(pod({ "hub.jupyter.org/username": "grace" }, 10001, "Pending"), user, "notebook") ?? "",
      /Pending/,
    );
    assert.match(
      notTheirs(
        pod({ "hub.jupyter.org/username": "grace", "hub.jupyter.org/servername": "x" }, 10001),
        user,
        "notebook",
      ) ?? "",
      /named/,
    );
  });

  it("forwards only to loopback inside the user's own pod", () => {
    assert.equal(forwardRefusal("localhost", 8888), undefined);
    assert.equal(forwardRefusal("127.0.0.1", 9000), undefined);
    assert.match(forwardRefusal("10.244.0.7", 8888) ?? "", /own server/);
    assert.match(forwardRefusal("jupyter-alan", 8888) ?? "", /own server/);
    assert.match(forwardRefusal("hub", 8081) ?? "", /own server/);
  });

  it("lists the gateway's port and each user's sessions", () => {
    const lines = sshStatusLines([{ part: "ssh-gateway", phase: "Running", ready: true }], {
      port: 30022,
      status: {
        pid: 1,
        listening: { address: "0.0.0.0", port: 2222 },
        updatedAt: "2026-12-04T00:00:00Z",
        limits: "",
        sessions: [
          { user: "grace", from: "10.0.0.1", kind: "shell", since: "2026-12-04T00:00:00Z" },
          { user: "alan", from: "10.0.0.2", kind: "forward", since: "2026-12-04T00:00:01Z" },
        ],
      },
    });
    assert.deepEqual(lines, [
      "SSH gateway: ready, port 30022",
      "SSH sessions: 2",
      "  alan: forward from 10.0.0.2 since 2026-12-04T00:00:01Z",
      "  grace: shell from 10.0.0.1 since 2026-12-04T00:00:00Z",
    ]);
    assert.deepEqual(sshStatusLines([], { port: undefined, status: undefined }), [
      "SSH gateway: not running",
      "SSH sessions: 0",
    ]);
  });
});
