/**
 * The gateway's status on the cluster, for `atrium status`: whether it listens and
 * its open sessions, kept in the ConfigMap the render made for it (the only object it
 * may change), written at most once a second.
 */
import { KUBE_SSH_STATUS_KEY } from "../../../contracts/kube-ssh-service.js";
import type { SshGatewayStatus } from "../../../contracts/ssh-service.js";
import type { KubeApi } from "./in-cluster.js";

type Open = SshGatewayStatus["sessions"][number];

export class StatusConfigMap {
  private readonly open = new Map<number, Open>();
  private next = 1;
  private listening: SshGatewayStatus["listening"] = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly name: string,
    private readonly log: (line: string) => void,
  ) {}

  setListening(address: string, port: number): void {
    this.listening = { address, port };
    void this.writeNow();
  }

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
    }, 1000);
    this.timer.unref();
  }

  async writeNow(stopped = false): Promise<void> {
    const status: SshGatewayStatus = {
      pid: process.pid,
      listening: stopped ? null : this.listening,
      updatedAt: new Date().toISOString(),
      sessions: stopped ? [] : [...this.open.values()],
      limits: "the user's server pod's",
    };
    try {
      await this.api.mergePatch(`/api/v1/namespaces/${this.api.namespace}/configmaps/${this.name}`, {
        data: { [KUBE_SSH_STATUS_KEY]: `${JSON.stringify(status)}\n` },
      });
    } catch (err) {
      this.log(`status not written: ${(err as Error).message}`);
    }
  }
}
