/**
 * A minimal client of a Jupyter server's kernels: REST to create a kernel, the
 * websocket channels (Jupyter messaging protocol v5, JSON frames) to run code.
 * Enough to run a cell and read back its output, and to notice a kernel that died.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

export interface ExecResult {
  status: "ok" | "error" | "aborted" | "no-reply";
  stdout: string;
  stderr: string;
  /** text/plain of the execute_result, if any. */
  result: string | undefined;
  error: { ename: string; evalue: string } | undefined;
}

interface Message {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
  channel?: string;
}

/**
 * A cell that touches every page of up to `bytes` of memory, 64 MiB at a time, and
 * prints "survived" if it got there: a kernel under a smaller limit never prints it.
 */
export function memoryHogCell(bytes: number): string {
  return [
    "chunks = []",
    `while sum(map(len, chunks)) < ${bytes}:`,
    "    b = bytearray(64 * 1024 * 1024)",
    "    b[::4096] = b'\\x01' * (len(b) // 4096)",
    "    chunks.append(b)",
    "print('survived', sum(map(len, chunks)))",
  ].join("\n");
}

export class KernelClient {
  /** Every iopub execution_state seen, in order (busy, idle, restarting, dead...). */
  readonly states: string[] = [];
  closed = false;
  private readonly listeners = new Set<(m: Message) => void>();
  private readonly session = randomUUID();

  private constructor(
    readonly id: string,
    private readonly ws: WebSocket,
  ) {
    ws.on("message", (data) => {
      let msg: Message;
      try {
        msg = JSON.parse(String(data)) as Message;
      } catch {
        return; // binary frames are not used here
      }
      if (msg.header.msg_type === "status") this.states.push(String(msg.content.execution_state));
      for (const l of this.listeners) l(msg);
    });
    ws.on("close", () => {
      this.closed = true;
    });
  }

  /**
   * Create a kernel on `serverUrl` (e.g. http://127.0.0.1:8000/user/alice) and connect
   * to it; `name` picks a kernelspec, else the server's default.
   */
  static async start(
    serverUrl: string,
    token: string,
    timeoutMs = 120_000,
    name?: string,
  ): Promise<KernelClient> {
    const res = await fetch(`${serverUrl}/api/kernels`, {
      method: "POST",
      headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(name ? { name } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`creating a kernel: ${res.status} ${text}`);
    const { id } = JSON.parse(text) as { id: string };
    return KernelClient.connect(serverUrl, token, id, timeoutMs);
  }

  static async connect(
    serverUrl: string,
    token: string,
    id: string,
    timeoutMs = 60_000,
  ): Promise<KernelClient> {
    const wsUrl = `${serverUrl.replace(/^http/, "ws")}/api/kernels/${id}/channels?session_id=${randomUUID()}`;
    const ws = new WebSocket(wsUrl, { headers: { Authorization: `token ${token}` } });
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`websocket to kernel ${id} did not open`)), timeoutMs);
      ws.once("open", () => {
        clearTimeout(timer);
        ok();
      });
      ws.once("error", (err) => {
        clearTimeout(timer);
        fail(err);
      });
      ws.once("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        fail(new Error(`websocket to kernel ${id}: HTTP ${res.statusCode}`));
      });
    });
    const client = new KernelClient(id, ws);
    // The first request may race the kernel's start; kernel_info waits for it.
    await client.request("kernel_info_request", {}, timeoutMs);
    return client;
  }

  private send(msgType: string, content: Record<string, unknown>, channel = "shell"): string {
    const msgId = randomUUID();
    this.ws.send(
      JSON.stringify({
        header: {
          msg_id: msgId,
          msg_type: msgType,
          username: "e2e",
          session: this.session,
          date: new Date().toISOString(),
          version: "5.3",
        },
        parent_header: {},
        metadata: {},
        content,
        channel,
        buffers: [],
      }),
    );
    return msgId;
  }

  /** Send a shell request and resolve with its reply's content. */
  request(
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    return new Promise((ok, fail) => {
      const msgId = this.send(msgType, content);
      const timer = setTimeout(() => {
        this.listeners.delete(listen);
        fail(new Error(`no reply to ${msgType} within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      const listen = (m: Message) => {
        if (
          m.parent_header.msg_id === msgId &&
          m.header.msg_type === msgType.replace(/_request$/, "_reply")
        ) {
          clearTimeout(timer);
          this.listeners.delete(listen);
          ok(m.content);
        }
      };
      this.listeners.add(listen);
    });
  }

  /**
   * Run `code`; resolve once the reply and the kernel's return to idle have both
   * arrived, or with status "no-reply" when the kernel died or restarted first or
   * `timeoutMs` passed.
   */
  execute(code: string, timeoutMs = 60_000): Promise<ExecResult> {
    return new Promise((ok) => {
      const out: ExecResult = {
        status: "no-reply",
        stdout: "",
        stderr: "",
        result: undefined,
        error: undefined,
      };
      let replied = false;
      let idle = false;
      const finish = () => {
        clearTimeout(timer);
        clearInterval(closedPoll);
        this.listeners.delete(listen);
        ok(out);
      };
      const timer = setTimeout(finish, timeoutMs);
      const closedPoll = setInterval(() => {
        if (this.closed) finish();
      }, 200);
      const msgId = this.send("execute_request", {
        code,
        silent: false,
        store_history: false,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      });
      const listen = (m: Message) => {
        const type = m.header.msg_type;
        if (
          type === "status" &&
          ["restarting", "dead", "autorestarting"].includes(String(m.content.execution_state))
        ) {
          finish();
          return;
        }
        if (m.parent_header.msg_id !== msgId) return;
        if (type === "stream") {
          const text = String(m.content.text ?? "");
          if (m.content.name === "stderr") out.stderr += text;
          else out.stdout += text;
        } else if (type === "execute_result") {
          out.result = String((m.content.data as Record<string, unknown> | undefined)?.["text/plain"] ?? "");
        } else if (type === "error") {
          out.error = { ename: String(m.content.ename), evalue: String(m.content.evalue) };
        } else if (type === "execute_reply") {
          out.status = String(m.content.status) as ExecResult["status"];
          replied = true;
        } else if (type === "status" && m.content.execution_state === "idle") {
          idle = true;
        }
        if (replied && idle) finish();
      };
      this.listeners.add(listen);
    });
  }

  close(): void {
    this.ws.close();
  }
}
