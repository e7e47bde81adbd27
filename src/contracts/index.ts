/**
 * Every JSON file one Atrium process hands another, each defined once here. The
 * JSON Schema of each is generated from its zod schema and committed in the hub
 * glue's package (python/atrium_hub/contracts/), where the Python side checks
 * what it reads; a unit test keeps the committed files equal to these.
 */
import { z } from "zod";
import { accountsEvent, accountsRequest, accountsSpec } from "./accounts.js";
import { daskAuthConfig } from "./dask-auth.js";
import { daskEnvironments, daskGatewaySettings } from "./dask-gateway.js";
import { envsServiceConfig } from "./envs-service.js";
import { hubSettings } from "./hub-settings.js";
import { kubeSshServiceConfig } from "./kube-ssh-service.js";
import { oidcAccounts } from "./oidc-accounts.js";
import { passwordHashes } from "./passwords.js";
import { sshGatewayStatus, sshServiceConfig } from "./ssh-service.js";

export const CONTRACTS = {
  "hub-settings": hubSettings,
  "dask-gateway": daskGatewaySettings,
  "dask-environments": daskEnvironments,
  "dask-auth": daskAuthConfig,
  "envs-service": envsServiceConfig,
  "ssh-service": sshServiceConfig,
  "ssh-status": sshGatewayStatus,
  "kube-ssh-service": kubeSshServiceConfig,
  "oidc-accounts": oidcAccounts,
  passwords: passwordHashes,
  accounts: accountsSpec,
  "accounts-request": accountsRequest,
  "accounts-event": accountsEvent,
} as const satisfies Record<string, z.ZodType>;

export type ContractName = keyof typeof CONTRACTS;

/** Where the committed JSON Schemas live, relative to the repository. */
export const CONTRACTS_SCHEMA_DIR = "python/atrium_hub/contracts";

export function contractSchemaFile(name: ContractName): string {
  return `${CONTRACTS_SCHEMA_DIR}/${name}.schema.json`;
}

export function contractJsonSchemaText(name: ContractName): string {
  const schema = z.toJSONSchema(CONTRACTS[name], { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  const withId = { ...schema, $id: `https://atrium.dev/schema/contracts/${name}.schema.json`, title: name };
  return `${JSON.stringify(withId, null, 2)}\n`;
}
