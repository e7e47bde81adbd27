/** The dask dashboard guard's rendered config (services/dask-auth.json), checked against its contract. */
import { type DaskAuthConfig, daskAuthConfig } from "../../contracts/dask-auth.js";
import { readContractFile } from "../../contracts/read.js";

export type { DaskAuthConfig };

export function readDaskAuthConfig(file: string): DaskAuthConfig {
  return readContractFile(daskAuthConfig, file);
}
