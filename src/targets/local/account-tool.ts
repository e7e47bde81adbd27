/**
 * The hub glue's account tool (`python -m atrium_hub.accounts_cli` in the hub env),
 * through which deploy makes Linux accounts and ~/shared links: the same code the
 * hub runs at single sign-on first login, so both make them one way. One request on
 * stdin; events back on stdout, one a line. Before the tool makes an account it names
 * it and waits: `beforeCreate` records it (a state checkpoint) and only then the
 * tool goes on.
 */
import { spawn } from "node:child_process";
import { posix } from "node:path";
import { createInterface } from "node:readline";
import { type AccountsEvent, type AccountsRequest, accountsEvent } from "../../contracts/accounts.js";
import { AtriumError } from "../../errors.js";
import type { Progress } from "../component.js";
import type { LocalPlacement } from "./placement.js";

export interface AccountToolHooks {
  progress: Progress;
  beforeCreate?(kind: "user" | "group", name: string): Promise<void>;
}

function parseEvent(line: string): AccountsEvent {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    throw new AtriumError(
      "apply-failed",
      `the account tool wrote a line that is not JSON: ${line.slice(0, 200)}`,
    );
  }
  const parsed = accountsEvent.safeParse(data);
  if (!parsed.success)
    throw new AtriumError("apply-failed", `the account tool wrote an unknown event: ${line.slice(0, 200)}`);
  return parsed.data;
}

/** Run one request; resolves with the tool's note, rejects with its error (and fix). */
export function runAccountTool(
  placement: LocalPlacement,
  request: AccountsRequest,
  hooks: AccountToolHooks,
): Promise<string> {
  const python = posix.join(placement.paths.hubVenv, "bin", "python");
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-m", "atrium_hub.accounts_cli"], {
      cwd: "/",
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    let failure: AtriumError | undefined;
    let note: string | undefined;
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    child.stdin.on("error", () => {});
    child.on("error", (err) =>
      reject(new AtriumError("apply-failed", `can't run the account tool ${python}: ${err.message}`)),
    );
    const lines = createInterface({ input: child.stdout });
    // One line at a time: the tool waits for `go` after an intent, so nothing else comes meanwhile.
    let handled: Promise<void> = Promise.resolve();
    const handle = async (line: string) => {
      if (failure || line.trim() === "") return;
      try {
        const e = parseEvent(line);
        if (e.event === "intent") {
          await hooks.beforeCreate?.(e.kind, e.name);
          child.stdin.write("go\n");
        } else if (e.event === "detail") hooks.progress.detail(e.text);
        else if (e.event === "important") hooks.progress.important(e.text);
        else if (e.event === "error")
          failure = new AtriumError("apply-failed", e.message, e.fix || undefined);
        else note = e.note;
      } catch (err) {
        failure = err instanceof AtriumError ? err : new AtriumError("apply-failed", String(err));
        child.kill("SIGTERM");
      }
    };
    lines.on("line", (line) => {
      handled = handled.then(() => handle(line));
    });
    const linesRead = new Promise((done) => lines.on("close", done)).then(() => handled);
    child.on("close", (code, signal) => void linesRead.then(() => settle(code, signal)));
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (failure) return reject(failure);
      if (code === 0 && note !== undefined) return resolve(note);
      const tail = stderr.trim().split("\n").slice(-8).join("\n    ");
      reject(
        new AtriumError(
          "apply-failed",
          `the account tool failed (${signal ? `signal ${signal}` : `exit ${code}`})${tail ? `:\n    ${tail}` : ""}`,
        ),
      );
    };
    child.stdin.write(`${JSON.stringify(request)}\n`);
  });
}
