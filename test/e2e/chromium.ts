/**
 * Debian's Chromium, driven by playwright-core, for the browser tests. The flags keep
 * it headless and quiet on a machine without internet (no background connections).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** `skip` value for a suite: false when Chromium is there, else the reason. */
export const chromiumMissing: false | string = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`;

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(extraFlags: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extraFlags] });
}
