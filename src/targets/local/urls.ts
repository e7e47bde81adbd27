/** Where the platform answers: its public address, and the hub on loopback. */
import type { Platform } from "../../model/platform.js";

export function publicUrl(platform: Platform): string {
  const { address, port, https } = platform.network;
  const host = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  return `${https.mode === "none" ? "http" : "https"}://${host}:${port}`;
}

export function hubUrl(platform: Platform): string {
  return `http://127.0.0.1:${platform.network.ports.hub}`;
}
