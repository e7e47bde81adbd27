/**
 * The Secrets the render refers to by name, made in the cluster by deploy: the
 * platform's secrets (each generated once, a key each; later keys added, none
 * changed), the proxy's certificate (self-signed once, or the given files), and the
 * first admin's password (printed once). No value is ever in a spec, the state or a log.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import bcrypt from "bcryptjs";
import { AtriumError } from "../../../errors.js";
import type { Component } from "../../component.js";
import { generatePassword, newSecretValue } from "../../secret-values.js";
import { selfSignedCertArgs } from "../../self-signed-cert.js";
import type { RenderInput } from "../meta.js";
import { instanceLabels } from "../placement.js";
import { clusterSecretSpecs } from "../secrets.js";
import type { ClusterConnection } from "./connection.js";
import { readSecret, writeSecret } from "./secret-object.js";

const PASSWORDS_KEY = "passwords.json";

export function platformSecretsComponent(conn: ClusterConnection, input: RenderInput): Component {
  const { namespace, names } = input.placement;
  const specs = clusterSecretSpecs(input);
  const labels = instanceLabels(input.platform.project.name, "secrets");
  return {
    name: `secret/${names.secrets}`,
    title: `generated secrets (Secret ${names.secrets}, a key each)`,
    spec: specs.map((s) => ({ name: s.name, kind: s.kind, bytes: s.bytes ?? null })),
    async present() {
      const s = await readSecret(conn, namespace, names.secrets);
      return specs.every((spec) => s.values[spec.name] !== undefined);
    },
    async apply() {
      const s = await readSecret(conn, namespace, names.secrets);
      const missing = specs.filter((spec) => s.values[spec.name] === undefined);
      if (missing.length === 0) return { note: "all present" };
      const values = { ...s.values };
      for (const spec of missing) values[spec.name] = newSecretValue(spec);
      await writeSecret(conn, namespace, names.secrets, s, values, { labels });
      return { note: `${missing.length} generated` };
    },
  };
}

const run = promisify(execFile);

async function selfSigned(host: string): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), "atrium-tls-"));
  try {
    const key = join(dir, "tls.key");
    const cert = join(dir, "tls.crt");
    await run("openssl", selfSignedCertArgs(host, key, cert));
    return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

export function tlsSecretComponent(conn: ClusterConnection, input: RenderInput): Component | undefined {
  const { namespace, names, block } = input.placement;
  const https = block.https;
  if (https.mode === "none") return undefined;
  const labels = instanceLabels(input.platform.project.name, "proxy");
  const type = "kubernetes.io/tls";
  const manual = () => {
    if (https.mode !== "manual") return undefined;
    try {
      return { cert: readFileSync(https.cert ?? "", "utf8"), key: readFileSync(https.key ?? "", "utf8") };
    } catch (err) {
      throw new AtriumError(
        "prerequisite",
        `cannot read the certificate files: ${(err as Error).message}`,
        "fix target.https.cert / target.https.key",
      );
    }
  };
  const given = manual();
  return {
    name: `secret/${names.tls}`,
    title: https.mode === "manual" ? "HTTPS certificate (given)" : "HTTPS certificate (self-signed)",
    // the given files by content hash: a renewed certificate is a change to apply
    spec: given ? { mode: "manual", cert: sha(given.cert), key: sha(given.key) } : { mode: https.mode },
    async present() {
      const s = await readSecret(conn, namespace, names.tls);
      return s.values["tls.crt"] !== undefined && s.values["tls.key"] !== undefined;
    },
    async apply() {
      const s = await readSecret(conn, namespace, names.tls);
      if (given) {
        if (s.values["tls.crt"] === given.cert && s.values["tls.key"] === given.key)
          return { note: "unchanged" };
        await writeSecret(
          conn,
          namespace,
          names.tls,
          s,
          { "tls.crt": given.cert, "tls.key": given.key },
          { type, labels },
        );
        return { note: "from the given files" };
      }
      if (s.values["tls.crt"] && s.values["tls.key"]) return { note: "kept the existing certificate" };
      const host =
        block.expose.type === "Ingress" ? block.expose.host : `${names.proxyPublic}.${namespace}.svc`;
      const made = await selfSigned(host);
      await writeSecret(
        conn,
        namespace,
        names.tls,
        s,
        { "tls.crt": made.cert, "tls.key": made.key },
        { type, labels },
      );
      return { note: `generated for ${host}` };
    },
  };
}

/** bcrypt hashes in the platform Secret's passwords.json; the write is refused if someone wrote since the read. */
export async function setClusterPassword(
  conn: ClusterConnection,
  input: RenderInput,
  user: string,
  password: string,
  extra: Record<string, string> = {},
): Promise<void> {
  const { namespace, names } = input.placement;
  for (let attempt = 0; ; attempt++) {
    const s = await readSecret(conn, namespace, names.secrets);
    const hashes = JSON.parse(s.values[PASSWORDS_KEY] ?? "{}") as Record<string, string>;
    hashes[user] = bcrypt.hashSync(password, 12);
    try {
      await writeSecret(conn, namespace, names.secrets, s, {
        ...s.values,
        ...extra,
        [PASSWORDS_KEY]: `${JSON.stringify(hashes)}\n`,
      });
      return;
    } catch (err) {
      if (attempt < 3 && /409|conflict/i.test((err as Error).message)) continue;
      throw err;
    }
  }
}

export async function hasClusterPassword(
  conn: ClusterConnection,
  input: RenderInput,
  user: string,
): Promise<boolean> {
  const s = await readSecret(conn, input.placement.namespace, input.placement.names.secrets);
  const hashes = JSON.parse(s.values[PASSWORDS_KEY] ?? "{}") as Record<string, string>;
  return hashes[user] !== undefined;
}

export function adminPasswordComponent(conn: ClusterConnection, input: RenderInput): Component | undefined {
  const { platform, placement } = input;
  if (platform.auth.type !== "password") return undefined;
  const admin = platform.firstAdmin;
  if (!admin) return undefined;
  const key = `initial-password-${admin}`;
  return {
    name: "admin-password",
    title: `first admin's password (${admin})`,
    spec: { admin },
    present: () => hasClusterPassword(conn, input, admin),
    async apply(_previous, progress) {
      if (await hasClusterPassword(conn, input, admin)) return { note: "already set" };
      const password = generatePassword();
      await setClusterPassword(conn, input, admin, password, { [key]: password });
      progress.important(
        `First login: user "${admin}", password "${password}" (also in Secret ${placement.namespace}/${placement.names.secrets}, key ${key}).`,
      );
      return { note: "generated" };
    },
  };
}
