/**
 * The Video Chat JupyterLab extension in the user env on the shared volume, as on the
 * local target: the hub's init container, after building the environments, unpacks the
 * extension's archive (env-sources.ts) to <user env>/share/jupyter/labextensions/@atrium/videochat,
 * where JupyterLab finds prebuilt extensions, or removes it when video chat is off.
 * What must stay true: the folder is never seen half unpacked (it is unpacked beside the
 * old one, then renamed into place); running servers see a change on their next page
 * load, nothing restarts.
 */
import { posix } from "node:path";
import { ENV_SOURCE_KEYS } from "./env-sources.js";
import { ENV_SOURCES_DIR, USER_ENV } from "./pod-paths.js";

export const VIDEOCHAT_EXTENSION_DIR = posix.join(
  USER_ENV,
  "share",
  "jupyter",
  "labextensions",
  "@atrium",
  "videochat",
);

/** Shell lines for the hub's init container (`set -eu` is on). */
export function videoChatInstallScript(enabled: boolean): string {
  const dir = VIDEOCHAT_EXTENSION_DIR;
  if (!enabled) return `rm -rf ${dir} ${dir}.new ${dir}.old`;
  return [
    `rm -rf ${dir}.new ${dir}.old && mkdir -p ${dir}.new`,
    `tar -xzf ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.videochat} -C ${dir}.new`,
    `if [ -e ${dir} ]; then mv ${dir} ${dir}.old; fi`,
    `mv ${dir}.new ${dir} && rm -rf ${dir}.old`,
  ].join("\n");
}
