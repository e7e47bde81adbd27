/**
 * One deploy at a time per platform, across admins and machines: the Lease
 * `atrium-deploy` in the platform's namespace. Taking it is a create (or, when the
 * holder stopped renewing it, a replace conditioned on the resourceVersion read, so
 * two takers never both win). The holder renews it while it works; a holder that
 * died is named in the refusal and its lease expires by itself, or `atrium unlock`
 * removes it.
 */
import { hostname, userInfo } from "node:os";
import { type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { AtriumError } from "../../../errors.js";
import type { DeployLock } from "../../target.js";
import { type ClusterConnection, clusterError, FIELD_MANAGER, isConflict, isNotFound } from "./connection.js";
import { ensureNamespace, namespaceExists } from "./namespace.js";

export const LEASE_NAME = "atrium-deploy";
export const LEASE_SECONDS = 60;
const RENEW_MS = 15_000;

export interface LeaseLockOptions {
  namespace: string;
  labels: Record<string, string>;
  /** Now, for tests. */
  now?: () => Date;
}

/** The Lease's identity, for reads, replaces and deletes. */
function leaseHeader(namespace: string) {
  return { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: LEASE_NAME, namespace } };
}

const micro = (d: Date) => new V1MicroTime(d.getTime());

function expired(lease: V1Lease, now: Date): boolean {
  const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  const seconds = lease.spec?.leaseDurationSeconds ?? LEASE_SECONDS;
  if (!renewed) return true;
  return new Date(renewed).getTime() + seconds * 1000 < now.getTime();
}

function refusal(lease: V1Lease, what: string, now: Date, namespace: string): AtriumError {
  const holder = lease.spec?.holderIdentity ?? "someone";
  const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime) : undefined;
  const ago = renewed ? `, last renewed ${Math.round((now.getTime() - renewed.getTime()) / 1000)}s ago` : "";
  return new AtriumError(
    "locked",
    `another ${what} is running on this platform: ${holder}${ago}`,
    `wait for it to finish; if it died, its lock expires ${LEASE_SECONDS}s after its last renewal, or remove it: atrium unlock (Lease ${namespace}/${LEASE_NAME})`,
  );
}

export function leaseLock(conn: ClusterConnection, options: LeaseLockOptions): DeployLock {
  const { namespace } = options;
  const now = options.now ?? (() => new Date());
  const header = leaseHeader(namespace);
  return {
    async holder() {
      try {
        const current = await conn.objects.read<V1Lease>(header);
        return expired(current, now()) ? undefined : (current.spec?.holderIdentity ?? "someone");
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw clusterError(conn, `reading the deploy lock ${namespace}/${LEASE_NAME}`, err);
      }
    },
    unlock: (force) => unlockLease(conn, namespace, force, now()),
    async acquire(what, create) {
      if (create) await ensureNamespace(conn, namespace, options.labels);
      else if (!(await namespaceExists(conn, namespace))) return async () => {};
      const identity = `${userInfo().username}@${hostname()} pid ${process.pid} (${what})`;
      const lease = (resourceVersion?: string): V1Lease => ({
        ...header,
        metadata: {
          ...header.metadata,
          labels: options.labels,
          ...(resourceVersion ? { resourceVersion } : {}),
        },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: LEASE_SECONDS,
          acquireTime: micro(now()),
          renewTime: micro(now()),
        },
      });
      let held: V1Lease;
      try {
        held = await conn.objects.create<V1Lease>(lease(), undefined, undefined, FIELD_MANAGER);
      } catch (err) {
        if (!isConflict(err))
          throw clusterError(conn, `taking the deploy lock ${namespace}/${LEASE_NAME}`, err);
        const current = await conn.objects.read<V1Lease>(header);
        if (!expired(current, now())) throw refusal(current, what, now(), namespace);
        try {
          held = await conn.objects.replace<V1Lease>(lease(current.metadata?.resourceVersion));
        } catch (err2) {
          if (isConflict(err2))
            throw refusal(await conn.objects.read<V1Lease>(header), what, now(), namespace);
          throw clusterError(conn, `taking over the expired deploy lock ${namespace}/${LEASE_NAME}`, err2);
        }
      }
      let lost: AtriumError | undefined;
      // the renewal in flight: release waits for it, so it deletes the lease as last written
      let renewing: Promise<void> = Promise.resolve();
      const renew = setInterval(() => {
        const next: V1Lease = { ...held, spec: { ...held.spec, renewTime: micro(now()) } };
        renewing = conn.objects.replace<V1Lease>(next).then(
          (l) => {
            held = l;
          },
          (err) => {
            lost = clusterError(conn, `renewing the deploy lock ${namespace}/${LEASE_NAME}`, err);
          },
        );
      }, RENEW_MS);
      renew.unref();
      return async () => {
        clearInterval(renew);
        await renewing;
        // Only the lease as this deploy last wrote it: one taken over meanwhile is not ours to remove.
        const preconditions = { resourceVersion: held.metadata?.resourceVersion };
        try {
          await conn.objects.delete(header, undefined, undefined, undefined, undefined, undefined, {
            preconditions,
          });
        } catch (err) {
          if (isNotFound(err) || isConflict(err) || lost) return;
          throw clusterError(conn, `releasing the deploy lock ${namespace}/${LEASE_NAME}`, err);
        }
      };
    },
  };
}

/** `atrium unlock` on the cluster: the Lease deleted as it was read, so one taken meanwhile stays. */
async function unlockLease(
  conn: ClusterConnection,
  namespace: string,
  force: boolean,
  now: Date,
): Promise<string> {
  const header = leaseHeader(namespace);
  const where = `Lease ${namespace}/${LEASE_NAME}`;
  let lease: V1Lease;
  try {
    lease = await conn.objects.read<V1Lease>(header);
  } catch (err) {
    if (isNotFound(err)) return `no deploy lock to remove (${where} does not exist)`;
    throw clusterError(conn, `reading the deploy lock ${where}`, err);
  }
  const holder = lease.spec?.holderIdentity ?? "someone";
  if (!force && !expired(lease, now)) {
    const refused = refusal(lease, "deploy or destroy", now, namespace);
    throw new AtriumError(
      "locked",
      `${refused.message}; its lock is still renewed, so it may be working`,
      `wait for it, or if you know it is gone: atrium unlock --force`,
    );
  }
  try {
    await conn.objects.delete(header, undefined, undefined, undefined, undefined, undefined, {
      preconditions: { resourceVersion: lease.metadata?.resourceVersion },
    });
  } catch (err) {
    if (isNotFound(err)) return `no deploy lock to remove (${where} went meanwhile)`;
    if (isConflict(err))
      throw new AtriumError(
        "locked",
        `${where} was taken again while it was being removed`,
        "run atrium unlock again",
      );
    throw clusterError(conn, `removing the deploy lock ${where}`, err);
  }
  return `removed the deploy lock ${where}, held by ${holder}`;
}
