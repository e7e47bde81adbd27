/**
 * Debian's Chromium, driven by playwright-core, for the browser tests. The flags keep
 * it headless and quiet on a machine without internet (no background connections).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

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

/** Log in through the hub's form at `base` and wait until the hub has moved on from it. */
export async function logInThroughForm(
  page: Page,
  base: string,
  user: string,
  password: string,
): Promise<void> {
  await page.goto(`${base}/hub/login`);
  await page.fill("#username_input", user);
  await page.fill("#password_input", password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith("/hub/login")),
    page.click("#login_submit"),
  ]);
}
