/**
 * An ed25519 key pair in OpenSSH's own formats (the `openssh-key-v1` private key
 * file and the one-line public key), made from Node's crypto. Written here rather
 * than taken from ssh2's generator, which drops a leading zero byte of the public
 * key and so makes about one key in 256 unreadable.
 *
 * Private key layout (unencrypted): the magic "openssh-key-v1\0", cipher "none",
 * kdf "none", empty kdf options, one key; its public blob; then a private section
 * of two equal check numbers, the key type, public key, seed+public key and the
 * comment, padded with 1, 2, 3, ... to a multiple of 8 bytes.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function str(data: Buffer | string): Buffer {
  const b = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([u32(b.length), b]);
}

export interface OpenSshKeyPair {
  /** The private key file's content. */
  private: string;
  /** `ssh-ed25519 AAAA... comment` */
  public: string;
}

/** Encode an ed25519 key given by its 32-byte seed and 32-byte public key. */
export function encodeEd25519(
  seed: Buffer,
  pub: Buffer,
  comment: string,
  check = randomBytes(4),
): OpenSshKeyPair {
  if (seed.length !== 32 || pub.length !== 32) throw new Error("ed25519 keys have 32-byte halves");
  const type = "ssh-ed25519";
  const pubBlob = Buffer.concat([str(type), str(pub)]);
  const body = Buffer.concat([
    check,
    check,
    str(type),
    str(pub),
    str(Buffer.concat([seed, pub])),
    str(comment),
  ]);
  const pad = Buffer.from(Array.from({ length: (8 - (body.length % 8)) % 8 }, (_, i) => i + 1));
  const blob = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    str("none"),
    str("none"),
    str(""),
    u32(1),
    str(pubBlob),
    str(Buffer.concat([body, pad])),
  ]);
  const lines = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `${type} ${pubBlob.toString("base64")}${comment ? ` ${comment}` : ""}`,
  };
}

export function generateEd25519(comment: string): OpenSshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const d = privateKey.export({ format: "jwk" }).d;
  const x = publicKey.export({ format: "jwk" }).x;
  if (!d || !x) throw new Error("Node did not export the ed25519 key");
  return encodeEd25519(Buffer.from(d, "base64url"), Buffer.from(x, "base64url"), comment);
}
