/**
 * The gateway's status file (<run_dir>/ssh.json, root-only): whether it listens,
 * and the open sessions (user, client address, kind, start), for `atrium status`.
 * Written atomically, at most a few times a second.
 */
import { renameSync, writeFileSync } from "node:fs";
import type { SshGatewayStatus } from "../../contracts/ssh-service.js";

type Open = SshGatewayStatus["sessions"][number];

export class StatusFile {
  private readonly open = new Map<number, Open>();
  private next = 1;
  private listening: SshGatewayStatus["listening"] = null;
  private timer: NodeJS.Timeout | undefined;
  limits = "";

  constructor(private readonly file: string) {}

  setListening(address: string, port: number): void {
    this.listening = { address, port };
    this.writeNow();
  }

  /** Register an open session; the returned function unregisters it (once). */
  track(user: string, from: string, kind: string): () => void {
    const id = this.next++;
    this.open.set(id, { user, from, kind, since: new Date().toISOString() });
    this.schedule();
    return () => {
      if (this.open.delete(id)) this.schedule();
    };
  }

  count(): number {
    return this.open.size;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow();
    }, 200);
    this.timer.unref();
  }

  writeNow(stopped = false): void {
    const status: SshGatewayStatus = {
      pid: process.pid,
      listening: stopped ? null : this.listening,
      updatedAt: new Date().toISOString(),
      sessions: stopped ? [] : [...this.open.values()],
      limits: this.limits,
    };
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // status is informative only; the gateway keeps serving
    }
  }
}
