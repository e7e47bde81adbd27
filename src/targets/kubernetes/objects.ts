/**
 * The Kubernetes objects Atrium renders, as plain JSON data with small local types
 * (only the fields Atrium sets), and the waves they are applied in. Pure.
 *
 * Must stay true: an object holds no secret value (Secrets are referred to by name);
 * the same Platform gives the same objects in the same order.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/**
 * Apply order (kapp's): what others need first. Deletes run in reverse. CRDs and
 * custom resources have no wave yet: the platform makes none.
 */
export const WAVES = ["namespace", "rbac", "config", "services", "workloads", "policies"] as const;
export type Wave = (typeof WAVES)[number];

export interface RenderedObject {
  wave: Wave;
  object: KubeObject;
}

/** "hub", "Deployment" -> "deployment-hub": the object's file name in the render, stable. */
export function objectFileName(object: KubeObject): string {
  return `${object.kind.toLowerCase()}-${object.metadata.name}`;
}

/** The objects in apply order: by wave, then as each family lists them. */
export function inWaveOrder(objects: RenderedObject[]): RenderedObject[] {
  return WAVES.flatMap((wave) => objects.filter((o) => o.wave === wave));
}

export interface Container {
  name: string;
  image: string;
  [field: string]: unknown;
}

/** A reference to one key of a Secret: how pods get a secret without it being in any object. */
export interface SecretKeyRef {
  secretKeyRef: { name: string; key: string };
}
