/**
 * The environments of atrium.yaml, each with its conda-style environment.yaml text:
 * read from its `file` (relative to the config file's folder) or written from its
 * python, dependencies and pip. Files are read here, when the Platform is derived,
 * so an unreadable one is told at plan time, naming the key, before anything changes.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { stringify } from "yaml";
import type { Config } from "../config/schema.js";
import { AtriumError } from "../errors.js";

export interface PlatformEnvironment {
  name: string;
  namespace: string;
  /** Where the spec came from: the file's absolute path, or atrium.yaml for an inline one. */
  source: string;
  /** The spec, as the environment service reads it (environment.yaml). */
  spec: string;
}

type DeclaredEnvironment = Config["environments"][number];

/** An inline environment as a conda-style environment.yaml. */
export function inlineSpec(env: Omit<DeclaredEnvironment, "file">): string {
  const dependencies: unknown[] = [
    ...(env.python ? [`python=${env.python}`] : []),
    ...env.dependencies,
    ...(env.pip.length > 0 ? [{ pip: env.pip }] : []),
  ];
  return stringify({ name: env.name, dependencies });
}

/** Every environment with its spec text; throws one error naming each file that can't be read. */
export function deriveEnvironments(
  environments: DeclaredEnvironment[],
  configDir: string,
  read: (path: string) => string = (path) => readFileSync(path, "utf8"),
): PlatformEnvironment[] {
  const unreadable: string[] = [];
  const derived = environments.map((e, i) => {
    const { name, namespace } = e;
    if (e.file === undefined) return { name, namespace, source: "atrium.yaml", spec: inlineSpec(e) };
    const path = resolve(configDir, e.file);
    try {
      return { name, namespace, source: path, spec: read(path) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      unreadable.push(`environments[${i}].file (${namespace}/${name}): can't read ${path} (${code})`);
      return { name, namespace, source: path, spec: "" };
    }
  });
  if (unreadable.length > 0) {
    throw new AtriumError(
      "file-not-found",
      unreadable.join("\n"),
      "fix environments[].file: a path relative to the folder of atrium.yaml",
    );
  }
  return derived;
}
