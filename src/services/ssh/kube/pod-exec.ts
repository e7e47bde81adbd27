/**
 * One program run in a pod through the exec API, as a duplex of bytes: stdin,
 * stdout and stderr kept apart (without a terminal), a terminal's size, stdin's end
 * of file, and how the program ended. The words are passed as they are (no shell
 * quoting anywhere); the environment is set by a small sh prologue from words too.
 */
import type WebSocket from "ws";
import {
  closeFrame,
  EXEC_PROTOCOL,
  type ExecEnd,
  execEnd,
  execQuery,
  frame,
  resizeFrame,
  STATUS,
  STDERR,
  STDIN,
  STDOUT,
  splitFrame,
} from "./channels.js";
import type { KubeApi } from "./in-cluster.js";

/** Exports each NAME=VALUE word up to "--", goes home, runs the rest. */
const PROLOGUE =
  'while [ "$1" != "--" ]; do export "$1"; shift; done; shift; cd "$HOME" 2>/dev/null || cd /; exec "$@"';

export function podCommand(env: Record<string, string>, argv: readonly string[]): string[] {
  return [
    "/bin/sh",
    "-c",
    PROLOGUE,
    "atrium-ssh",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    "--",
    ...argv,
  ];
}

export interface PodExec {
  /** `written` runs once the bytes left for the pod (for flow control). */
  write(data: Buffer, written?: () => void): void;
  /** Stop and start reading the pod's output (the client is slow). */
  pause(): void;
  resume(): void;
  endInput(): void;
  resize(cols: number, rows: number): void;
  kill(): void;
}

export interface ExecHandlers {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Once: how it ended. */
  end(how: ExecEnd): void;
}

export function podExec(
  api: KubeApi,
  namespace: string,
  pod: string,
  container: string,
  command: readonly string[],
  tty: boolean,
  on: ExecHandlers,
): PodExec {
  const path = `/api/v1/namespaces/${namespace}/pods/${pod}/exec?${execQuery(container, command, tty)}`;
  const ws: WebSocket = api.socket(path, EXEC_PROTOCOL);
  let ended = false;
  let status: ExecEnd | undefined;
  const finish = (how: ExecEnd) => {
    if (ended) return;
    ended = true;
    on.end(how);
  };
  const queued: Array<[Buffer, (() => void) | undefined]> = [];
  const send = (b: Buffer, written?: () => void) => {
    if (ws.readyState === ws.OPEN) ws.send(b, () => written?.());
    else if (ws.readyState === ws.CONNECTING) queued.push([b, written]);
    else written?.();
  };
  ws.on("open", () => {
    if (ws.protocol !== EXEC_PROTOCOL) {
      ws.close();
      finish({ error: `the API server does not speak ${EXEC_PROTOCOL} (Kubernetes 1.30 or later needed)` });
      return;
    }
    for (const [b, written] of queued.splice(0)) ws.send(b, () => written?.());
  });
  ws.on("message", (message: Buffer) => {
    const f = splitFrame(message);
    if (!f) return;
    if (f.channel === STDOUT) on.stdout(f.data);
    else if (f.channel === STDERR) on.stderr(f.data);
    else if (f.channel === STATUS) status = execEnd(f.data.toString("utf8"));
  });
  ws.on("unexpected-response", (_req, res) => {
    let body = "";
    res.on("data", (c: Buffer) => {
      body += c.toString();
    });
    res.on("end", () =>
      finish({ error: `the API server refused the exec (${res.statusCode}): ${body.slice(0, 200)}` }),
    );
  });
  ws.on("error", (err) => finish({ error: err.message }));
  ws.on("close", () => finish(status ?? { error: "the connection to the pod ended" }));
  return {
    write: (data, written) => send(frame(STDIN, data), written),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    endInput: () => send(closeFrame(STDIN)),
    resize: (cols, rows) => send(resizeFrame(cols, rows)),
    kill: () => ws.terminate(),
  };
}
