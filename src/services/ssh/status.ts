/**
 * What an SSH gateway tells `atrium status`: whether it listens, and the open
 * sessions (user, client address, kind, start). `SessionStatus` keeps them and
 * writes them at most once per `delayMs`; where they go is each gateway's own
 * (`StatusFile` here: <run_dir>/ssh.json, root-only, written atomically; the
 * cluster's gateway keeps them in a ConfigMap).
 */
import { renameSync, writeFileSync } from "node:fs";
import type { SshGatewayStatus } from "../../contracts/ssh-service.js";

type Open = SshGatewayStatus["sessions"][number];

export abstract class SessionStatus {
  private readonly open = new Map<number, Open>();
  private next = 1;
  private listening: SshGatewayStatus["listening"] = null;
  private timer: NodeJS.Timeout | undefined;
  limits = "";

  constructor(private readonly delayMs: number) {}

  /** Where the status goes; failures are the writer's to report (status is informative only). */
  protected abstract persist(status: SshGatewayStatus): void | Promise<void>;

  setListening(address: string, port: number): void {
    this.listening = { address, port };
    void this.writeNow();
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
      void this.writeNow();
    }, this.delayMs);
    this.timer.unref();
  }

  writeNow(stopped = false): void | Promise<void> {
    return this.persist({
      pid: process.pid,
      listening: stopped ? null : this.listening,
      updatedAt: new Date().toISOString(),
      sessions: stopped ? [] : [...this.open.values()],
      limits: this.limits,
    });
  }
}

export class StatusFile extends SessionStatus {
  constructor(private readonly file: string) {
    super(200);
  }

  protected persist(status: SshGatewayStatus): void {
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // status is informative only; the gateway keeps serving
    }
  }
}
