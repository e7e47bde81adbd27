/**
 * The first admin's password: generated on the first deploy, printed once, kept in a
 * root-only file so the admin can read it again (`cat` as root) until they change it.
 */
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
      const password = generatePassword();
      const file = secretPath(placement, `initial-password-${admin}`);
      writeFileAtomic(file, `${password}\n`, 0o600);
      await setPassword(placement, admin, password);
      progress.important(
        `First login: user "${admin}", password "${password}" (also in ${file}, root-only).`,
      );
      return { note: "generated" };
    },
  };
}
