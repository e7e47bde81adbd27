/**
 * Running programs for deploy. Arguments never carry secrets: secrets go through
 * stdin or files. A failing command becomes an AtriumError quoting its output's tail.
 */
import { spawn } from "node:child_process";
import { AtriumError } from "../../errors.js";

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each line of output as it comes (progress for long steps). */
  onLine?: (line: string) => void;
  /** Exit codes that are not failures. */
  okCodes?: number[];
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    const feed = (chunk: string) => {
      if (!opts.onLine) return;
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") opts.onLine(l);
    };
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      feed(c);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      feed(c);
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(
        new AtriumError(
          "prerequisite",
          `can't run ${cmd}: ${err.message}`,
          `install the program that provides ${cmd}`,
        ),
      );
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const status = code ?? 128;
      if (status === 0 || opts.okCodes?.includes(status)) {
        resolve({ code: status, stdout, stderr });
        return;
      }
      const tail = (stderr || stdout).trim().split("\n").slice(-8).join("\n    ");
      reject(
        new AtriumError(
          "apply-failed",
          `${cmd} ${args.slice(0, 3).join(" ")}${args.length > 3 ? " ..." : ""} failed (${signal ? `signal ${signal}` : `exit ${status}`})${tail ? `:\n    ${tail}` : ""}`,
        ),
      );
    });
    // A program that exits without reading its input must not crash us with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** Run and return stdout, or undefined when the command fails or is missing. */
export async function tryRun(cmd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    return (await run(cmd, args)).stdout;
  } catch {
    return undefined;
  }
}
