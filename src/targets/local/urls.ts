import type { LocalPlacement } from "./placement.js";

export function publicUrl(placement: LocalPlacement): string {
  const { address, port, https } = placement.network;
  const host = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  return `${https.mode === "none" ? "http" : "https"}://${host}:${port}`;
}

export function hubUrl(placement: LocalPlacement): string {
  return `http://127.0.0.1:${placement.network.ports.hub}`;
}
