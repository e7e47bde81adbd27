/**
 * The channel framing of the Kubernetes exec and port-forward WebSockets: every
 * binary message starts with one byte naming its channel. Exec (`v5.channel.k8s.io`):
 * 0 stdin, 1 stdout, 2 stderr, 3 the final status (a metav1.Status as JSON), 4 a
 * terminal's size, and 255 a close of the channel named by the next byte (stdin's end
 * of file). Port-forward (`v4.channel.k8s.io`, one port): 0 data, 1 errors, each
 * channel's first message being the port number (two bytes, little-endian). Pure.
 */

export const EXEC_PROTOCOL = "v5.channel.k8s.io";
export const PORT_FORWARD_PROTOCOL = "v4.channel.k8s.io";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;
export const RESIZE = 4;
const CLOSE = 255;

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.of(channel), body]);
}

/** Stdin's end of file. */
export function closeFrame(channel: number): Buffer {
  return Buffer.of(CLOSE, channel);
}

export function resizeFrame(cols: number, rows: number): Buffer {
  return frame(RESIZE, JSON.stringify({ Width: cols, Height: rows }));
}

export function splitFrame(message: Buffer): { channel: number; data: Buffer } | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0] ?? 0, data: message.subarray(1) };
}

/** How the program ended, from the status channel: its exit code, or a failure's message. */
export type ExecEnd = { code: number } | { error: string };

export function execEnd(statusJson: string): ExecEnd {
  let status: {
    status?: unknown;
    message?: unknown;
    reason?: unknown;
    details?: { causes?: Array<{ reason?: unknown; message?: unknown }> };
  };
  try {
    status = JSON.parse(statusJson) as typeof status;
  } catch {
    return { error: "the API server's status is not JSON" };
  }
  if (status.status === "Success") return { code: 0 };
  const exit = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (status.reason === "NonZeroExitCode" && exit !== undefined) {
    const code = Number(exit.message);
    if (Number.isInteger(code)) return { code };
  }
  return { error: String(status.message ?? "the program could not be run") };
}

/** The query of an exec request: the container, the command's words, which streams. */
export function execQuery(container: string, command: readonly string[], tty: boolean): string {
  const q = new URLSearchParams();
  q.set("container", container);
  for (const word of command) q.append("command", word);
  q.set("stdin", "true");
  q.set("stdout", "true");
  // with a terminal, the kubelet sends everything as stdout
  q.set("stderr", tty ? "false" : "true");
  q.set("tty", tty ? "true" : "false");
  return q.toString();
}
