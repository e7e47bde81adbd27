/** The environment service's client on this machine: straight to 127.0.0.1, with Atrium's root-only hub token. */
import { readFileSync } from "node:fs";
import { AtriumError } from "../../errors.js";
import { EnvsClient } from "../envs-client.js";
import { envsUrl } from "./envs.js";
import type { LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";

export function localEnvsClient(placement: LocalPlacement, actAs?: string): EnvsClient {
  let token: string;
  try {
    token = readFileSync(secretPath(placement, "atrium_api_token"), "utf8").trim();
  } catch {
    throw new AtriumError(
      "not-found",
      "Atrium's hub token is missing or unreadable",
      "run atrium deploy first, as root",
    );
  }
  return new EnvsClient(() => ({ serviceUrl: envsUrl(placement), token }), actAs);
}
