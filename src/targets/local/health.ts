/** Waiting until the platform answers: the hub's API through the public proxy port. */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { AtriumError } from "../../errors.js";
import type { LocalPlacement } from "./placement.js";
import { publicUrl } from "./urls.js";

/** GET a URL on this machine; resolves the status code, or 0 when nothing answers. */
export function probe(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const request = u.protocol === "https:" ? httpsRequest : httpRequest;
    // The local certificate may be self-signed; this only checks that something answers.
    const req = request(u, { method: "GET", timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** Poll until the hub answers; `check` runs between polls and may throw to give up early. */
export async function waitForHub(
  placement: LocalPlacement,
  timeoutMs: number,
  check: () => void = () => {},
): Promise<void> {
  const url = `${publicUrl(placement)}/hub/api`;
  const until = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < until) {
    last = await probe(url);
    if (last === 200) return;
    check();
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new AtriumError(
    "apply-failed",
    `the hub did not answer at ${url} (last status ${last || "none"})`,
    "run atrium logs hub to see why",
  );
}
