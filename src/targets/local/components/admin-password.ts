/**
 * The first admin's password: generated on the first deploy, printed once, kept in a
 * root-only file so the admin can read it again (`cat` as root) until they change it.
 * The file is written before the password is set, and a deploy that finds it while no
 * password is set yet sets that one: a killed deploy's orphaned setter may still finish
 * after the next deploy's, and both then set the same password.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Component } from "../../component.js";
import { generatePassword } from "../../secret-values.js";
import type { LocalContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import { hasPassword, setPassword } from "../passwords.js";
import { secretPath } from "../secrets.js";

export function adminPasswordComponent(ctx: LocalContext): Component | undefined {
  const { platform, placement } = ctx;
  if (platform.auth.type !== "password") return undefined;
  const admin = platform.firstAdmin;
  if (!admin) return undefined;
  return {
    name: "admin-password",
    title: `first admin's password (${admin})`,
    spec: { admin },
    present: () => hasPassword(placement, admin),
    async apply(_previous, progress) {
      if (hasPassword(placement, admin)) return { note: "already set" };
      const file = secretPath(placement, `initial-password-${admin}`);
      const kept = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
      const password = kept === "" ? generatePassword() : kept;
      if (kept === "") writeFileAtomic(file, `${password}\n`, 0o600);
      await setPassword(placement, admin, password);
      progress.important(
        `First login: user "${admin}", password "${password}" (also in ${file}, root-only).`,
      );
      return { note: "generated" };
    },
  };
}
