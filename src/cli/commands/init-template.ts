/** The commented atrium.yaml that `atrium init` writes. */
import { CONFIG_VERSION } from "../../config/schema.js";

export interface InitAnswers {
  name: string;
  admin: string;
  port: string;
  https: string;
}

const yamlString = (s: string) => JSON.stringify(s);

export function initYaml(a: InitAnswers): string {
  const port = /^\d+$/.test(a.port) ? a.port : yamlString(a.port);
  return `# yaml-language-server: $schema=https://atrium.dev/schema/atrium.schema.json
# Atrium platform configuration. Check it with \`atrium validate\`, preview with
# \`atrium plan\`, apply with \`atrium deploy\`. Every key is described in the README.
version: ${CONFIG_VERSION}

project:
  name: ${yamlString(a.name)}      # DNS-safe; prefixes rooms, cgroups and units
  title: ${yamlString(a.name)}     # shown on the login page

target:
  type: local                 # this machine
  port: ${port}
  https:
    mode: ${yamlString(a.https)}   # none | self-signed | manual (with cert and key)

auth:
  type: password              # the first admin's password is printed on first deploy

groups: []                    # - name: analysts   (each gets a shared folder)

users:
  - name: ${yamlString(a.admin)}
    admin: true
    groups: []

# Instance types users pick from; with none, one default profile without limits is used.
profiles:
  - name: small
    display_name: Small (1 CPU, 2 GiB)
    cpu_limit: 1
    mem_limit: 2Gi
    default: true

dask:
  enabled: true
  limits: {max_workers: 4, max_cores: 4, max_memory: 16G}

ssh:
  enabled: true
  port: 8022

videochat:
  enabled: true
  jitsi_domain: meet.jit.si

idle_culler:
  enabled: true
  timeout: 1h
`;
}
