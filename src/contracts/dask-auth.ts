/** The Dask dashboard guard's config (services/dask-auth.json): rendered by the target, read by src/services/dask-auth. */
import { z } from "zod";
import { absPath, httpUrl, listen, nonEmpty, urlPath } from "./common.js";

export const daskAuthConfig = z
  .strictObject({
    listen,
    upstream: httpUrl.describe("the gateway's own HTTP proxy, which serves the API and the dashboards"),
    prefix: urlPath.describe("path prefix the platform's proxy routes here"),
    hubApiUrl: httpUrl,
    hubPrefix: urlPath.describe("public path of the hub, for the browser's OAuth redirect"),
    clientId: nonEmpty,
    apiTokenFile: absPath,
  })
  .describe("services/dask-auth.json: read by the dask-auth service");

export type DaskAuthConfig = z.infer<typeof daskAuthConfig>;
