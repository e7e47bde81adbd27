/**
 * The platform's ConfigMaps: the hub settings (and the jupyterhub_config.py that hands
 * them to the glue), and the generated passwd and group files of user pods. No secret
 * values: the settings name the files the platform's Secret is mounted as.
 */
import { stableJson } from "../../lib/stable-json.js";
import { HUB_CONFIG_PY_TEXT } from "../hub-settings-parts.js";
import { renderAccountFiles, renderEnvsAccountFiles } from "./accounts.js";
import { renderKubernetesHubSettings } from "./hub-settings.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { RenderedObject } from "./objects.js";

export const HUB_SETTINGS_KEY = "atrium_hub.json";
export const HUB_CONFIG_PY_KEY = "jupyterhub_config.py";

export function renderConfigMaps(input: RenderInput): RenderedObject[] {
  const { platform, placement } = input;
  return [
    {
      wave: "config",
      object: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: metaOf(input, placement.names.hubSettings, "hub"),
        data: {
          [HUB_SETTINGS_KEY]: stableJson(renderKubernetesHubSettings(platform, placement)),
          [HUB_CONFIG_PY_KEY]: HUB_CONFIG_PY_TEXT,
        },
      },
    },
    {
      wave: "config",
      object: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: metaOf(input, placement.names.accounts, "accounts"),
        data: { ...renderAccountFiles(platform, placement), ...renderEnvsAccountFiles(platform, placement) },
      },
    },
  ];
}
