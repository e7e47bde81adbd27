/** The environment service's rendered config (services/envs.json), checked against its contract. */
import { type EnvsServiceConfig, envsServiceConfig } from "../../contracts/envs-service.js";
import { readContractFile } from "../../contracts/read.js";

export type { GroupEditors } from "../../contracts/envs-service.js";
export type EnvsConfig = EnvsServiceConfig;

export function readEnvsConfig(file: string): EnvsConfig {
  return readContractFile(envsServiceConfig, file);
}
