/**
 * Pieces of the atrium.yaml schema that more than one block uses (the local and the
 * kubernetes targets alike): names, sizes, durations, paths, ports and HTTPS.
 * Every default and description still sits on the field that uses a piece.
 */
import { z } from "zod";
import { article } from "./text.js";
import { DURATION_RE, SIZE_RE } from "./units.js";

export const POSIX_NAME_RE = /^[a-z_][a-z0-9_-]*$/;
export const SLUG_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const DNS_LABEL_RE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

export const posixName = (what: string) =>
  z
    .string()
    .max(32, { error: `a ${what} name has at most 32 characters` })
    .regex(POSIX_NAME_RE, {
      error: `a ${what} name is lower case: a letter or _, then letters, digits, _ or -`,
    });

export const slug = (what: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(SLUG_RE, {
      error: `${article(what)} name is lower case letters, digits and -, starting and ending with a letter or digit`,
    });

// Text with a unit or a whole number; the pattern sits on the text branch so the
// JSON Schema checks exactly what parseSize and parseDuration accept.
export const size = z.union(
  [z.string().regex(SIZE_RE, { error: "not a size" }), z.int().nonnegative({ error: "not a size" })],
  { error: "not a size" },
);

export const duration = z.union(
  [
    z.string().regex(DURATION_RE, { error: "not a duration" }),
    z.int().nonnegative({ error: "not a duration" }),
  ],
  { error: "not a duration" },
);

export const absPath = z.string().regex(/^\//, { error: "must be an absolute path (starting with /)" });

export const port = z.int().min(1).max(65535);

export const https = z
  .strictObject({
    mode: z
      .enum(["none", "self-signed", "manual"])
      .default("none")
      .describe(
        "none: plain HTTP; self-signed: a certificate generated once and kept; manual: the cert and key given.",
      ),
    cert: absPath.optional().describe("PEM certificate file, for mode manual."),
    key: absPath.optional().describe("PEM private key file, for mode manual."),
  })
  .describe("How the proxy serves the platform.");
