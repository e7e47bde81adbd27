/**
 * The cluster gateway's status, for `atrium status`: kept in the ConfigMap the render
 * made for it (the only object it may change), written at most once a second.
 */
import { KUBE_SSH_STATUS_KEY } from "../../../contracts/kube-ssh-service.js";
import type { SshGatewayStatus } from "../../../contracts/ssh-service.js";
import { SessionStatus } from "../status.js";
import type { KubeApi } from "./in-cluster.js";

export class StatusConfigMap extends SessionStatus {
  constructor(
    private readonly api: KubeApi,
    private readonly name: string,
    private readonly log: (line: string) => void,
  ) {
    super(1000);
    this.limits = "the user's server pod's";
  }

  protected async persist(status: SshGatewayStatus): Promise<void> {
    try {
      await this.api.mergePatch(`/api/v1/namespaces/${this.api.namespace}/configmaps/${this.name}`, {
        data: { [KUBE_SSH_STATUS_KEY]: `${JSON.stringify(status)}\n` },
      });
    } catch (err) {
      this.log(`status not written: ${(err as Error).message}`);
    }
  }
}
