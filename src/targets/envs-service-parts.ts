/**
 * What the environment service is on every target: its name as a hub service, the path
 * the proxy routes to it, the build account, the build limits and the hub scopes its
 * token needs. Each target renders the rest (where it listens, its folders) itself.
 */
import type { HubService } from "../contracts/hub-settings.js";

export const ENVS_SERVICE = "envs";
export const ENVS_PREFIX = `/services/${ENVS_SERVICE}`;
/** The unprivileged account every environment build runs as. */
export const BUILD_ACCOUNT = "atrium-build";
/** Builds: 2 at a time (they wait on the network more than on the CPU), 30 minutes each, 5 kept. */
export const BUILDS = { concurrency: 2, timeoutSeconds: 1800, keep: 5 };

/** The service's hub entry: OAuth for its page, a token that reads users and groups. */
export function envsHubEntry(url: string, apiTokenFile: string): HubService {
  return {
    name: ENVS_SERVICE,
    url,
    api_token_file: apiTokenFile,
    oauth_redirect_uri: `${ENVS_PREFIX}/oauth_callback`,
    user_access: true,
    // Who is in which group decides who may use which environment.
    scopes: ["list:users", "read:users:name", "read:users:groups", "list:groups", "read:groups:name"],
  };
}
