/**
 * The pinned base images (test/cluster/images.json): upstream names, so that the same manifests
 * pull the upstream images on a real cluster; the test cluster builds images with these names.
 */
import { readFileSync } from "node:fs";
import { repoPath } from "../../src/paths.js";

export interface ImagePin {
  /** The upstream reference, registry/name:tag. */
  image: string;
  about: string;
}

export interface ImagePins {
  pause: ImagePin;
  /** Python and uv: runs the hub, environment builds and user servers. */
  python: ImagePin & { uv: string; python: string };
  proxy: ImagePin & { version: string };
  dns: ImagePin;
}

export function imagePins(): ImagePins {
  return JSON.parse(readFileSync(repoPath("test", "cluster", "images.json"), "utf8"));
}
