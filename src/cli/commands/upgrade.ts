/**
 * `atrium upgrade`: rewrite an older atrium.yaml as the current version, in place.
 * Only the values the format change touches are edited (comments and layout stay);
 * the file is replaced atomically, keeping its mode and owner, and through a link it
 * is the file linked to that changes. Then the result is validated like `validate`.
 */
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { readConfigText, validateText } from "../../config/load.js";
import { formatPath } from "../../config/problem.js";
import { upgradeText } from "../../config/upgrade.js";
import { AtriumError } from "../../errors.js";
import { CONFIG_OPTION, parseCommandArgs } from "../args.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("upgrade", args, CONFIG_OPTION, "[-c FILE]");
  if (!parsed) return 0;
  const file = parsed.values.config as string;
  const upgrade = upgradeText(file, readConfigText(file));
  if (upgrade.changes.length === 0) {
    process.stdout.write(`${file} is already version ${upgrade.to}; nothing to change\n`);
    return 0;
  }
  replaceFile(file, realpathSync(file), upgrade.text);
  const lines = [
    `${file}: upgraded from version ${upgrade.from} to ${upgrade.to}`,
    ...upgrade.why.map((w) => `  ${w}`),
    ...upgrade.changes.map((c) => `  ${file}:${c.line}  ${formatPath(c.path)}  ${c.change}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  const loaded = validateText(file, upgrade.text);
  if (loaded.problems.length === 0) return 0;
  throw new AtriumError(
    "config-invalid",
    `${file} is now version ${upgrade.to}, and has ${loaded.problems.length} problem${loaded.problems.length === 1 ? "" : "s"} the upgrade does not fix`,
    "fix them and run `atrium validate` again",
    loaded.problems,
  );
}

/** Temp file beside it, same mode and owner, synced, then renamed over it. */
function replaceFile(file: string, path: string, text: string): void {
  const st = statSync(path);
  const tmp = join(dirname(path), `.${basename(path)}.upgrade-${process.pid}`);
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
      if (process.getuid?.() === 0) fchownSync(fd, st.uid, st.gid);
      fchmodSync(fd, st.mode & 0o7777);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new AtriumError(
      "prerequisite",
      `${file} can't be rewritten (${code} in ${dirname(path)}); it is unchanged`,
      "run atrium upgrade as a user who may write that folder",
    );
  }
}
