/**
 * The SSH gateway on a cluster: the same ssh2 server, logins and throttling as on
 * one machine (auth.ts, rate-limit.ts), with sessions and forwards in the user's own
 * server pod through the API server (pod-session.ts, pod-forward.ts) instead of
 * processes here. Each connection takes the config as its ConfigMap says then.
 * Remote forwards, agent and X11 forwarding are refused by not being offered.
 */
import { readFileSync } from "node:fs";
import ssh2, { type Connection, type Server } from "ssh2";
import type { KubeSshServiceConfig, KubeSshUser } from "../../../contracts/kube-ssh-service.js";
import { Admission, throttleFor } from "../admission.js";
import { type AuthOutcome, authenticate } from "../auth.js";
import { log } from "../log.js";
import type { ClusterConfigSource } from "./cluster-config.js";
import type { KubeApi } from "./in-cluster.js";
import { handlePodForward } from "./pod-forward.js";
import { handlePodSession } from "./pod-session.js";
import { StatusConfigMap } from "./status-configmap.js";
import { serverPod, stillTheirs } from "./user-server.js";

export interface KubeGateway {
  server: Server;
  status: StatusConfigMap;
}

export function startKubeGateway(
  api: KubeApi,
  first: KubeSshServiceConfig,
  source: ClusterConfigSource,
): Promise<KubeGateway> {
  const { listen } = first;
  const hostKey = readFileSync(first.host_key_file);
  const hubToken = readFileSync(first.api_token_file, "utf8").trim();
  const status = new StatusConfigMap(api, first.status_configmap, log);
  const limiter = throttleFor(first.auth);
  const admission = new Admission(log);

  const server = new ssh2.Server({ hostKeys: [hostKey], ident: "Atrium" }, (client: Connection, info) => {
    const from = info.ip;
    const clientEnd = { address: info.ip, port: info.port };
    client.on("error", (err) => log(`connection from ${from}: ${err.message}`));
    const admitted = admission.admit(client, from, first.auth.login_timeout);
    if (!admitted) return;
    let authed: Extract<AuthOutcome<KubeSshUser>, { ok: true }> | undefined;
    client.on("authentication", (ctx) => {
      source
        .current()
        .then((config) => {
          const users = new Map(config.users.map((u) => [u.name, u]));
          return authenticate(ctx, from, {
            users,
            hubApiUrl: config.hub_api_url,
            limiter,
            log,
            lookup: async (name) => {
              const u = users.get(name);
              return u && { name: u.name, uid: u.uid, gid: u.uid, home: u.keys_home, shell: u.shell };
            },
          });
        })
        .then(
          (outcome) => {
            if (!outcome.ok) return;
            authed = outcome;
            ctx.accept();
          },
          (err: unknown) => {
            log(`authentication error for ${from}: ${(err as Error).message}`);
            try {
              ctx.reject();
            } catch {
              // the client went away
            }
          },
        );
    });
    client.on("ready", () => {
      admitted.settled();
      const who = authed?.user;
      if (!who) {
        client.end();
        return;
      }
      const local = { address: listen.address, port: listen.port };
      const open = new Set<() => void>();
      client.on("close", () => {
        for (const untrack of open) untrack();
      });
      const track = (kind: string) => {
        const untrack = status.track(who.name, from, kind);
        open.add(untrack);
        return () => {
          open.delete(untrack);
          untrack();
        };
      };
      client.on("session", (accept) => {
        handlePodSession(accept(), {
          user: who,
          client: clientEnd,
          server: local,
          sftpServerCandidates: first.sftp_server_candidates,
          pod: async (say) => {
            const config = await source.current();
            const name = await serverPod(api, config, who, hubToken, say);
            // found by its labels, then asked again by name just before the channel uses it
            const why = await stillTheirs(api, config, who, name);
            if (why) throw new Error(`your server's pod ${name} cannot be used: ${why}`);
            return { api, namespace: config.namespace, name, container: config.server_container };
          },
          track,
          log,
        });
      });
      client.on("tcpip", (accept, reject, info) => {
        void handlePodForward(accept, reject, info, {
          user: who.name,
          client: clientEnd,
          pod: async () => {
            const config = await source.current();
            try {
              const name = await serverPod(api, config, who, hubToken, () => {});
              const why = await stillTheirs(api, config, who, name);
              return why ? { refused: why } : { api, namespace: config.namespace, name };
            } catch (err) {
              return { refused: (err as Error).message };
            }
          },
          track,
          log,
        }).catch((err: unknown) => {
          log(`forward error: ${(err as Error).message}`);
          reject();
        });
      });
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.address, () => {
      server.off("error", reject);
      server.on("error", (err: Error) => log(`server error: ${err.message}`));
      status.setListening(listen.address, listen.port);
      log(
        `listening on ${listen.address}:${listen.port} for ${first.users.length} users of namespace ${first.namespace}`,
      );
      resolve({ server, status });
    });
  });
}
