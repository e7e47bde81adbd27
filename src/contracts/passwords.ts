/**
 * The password hashes (<secrets>/passwords.json, root-only): written and checked by the
 * hub glue (python/atrium_hub/passwords.py), read by `atrium passwd` and deploy to see
 * who has a password.
 */
import { z } from "zod";

export const passwordHashes = z
  .record(z.string(), z.string().describe("a bcrypt hash"))
  .describe("passwords.json: user name -> bcrypt hash");

export type PasswordHashes = z.infer<typeof passwordHashes>;
