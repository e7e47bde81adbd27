/**
 * The import graph of a source tree, checked against a layer rule: which folder may
 * import which, and no cycles. Every import counts (static, type-only, re-exports and
 * `import("...")` with a literal), since a type import still ties the two modules'
 * meaning together. Pure apart from reading the files.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import ts from "typescript";

/**
 * A layer: the files it holds and the layers it may import. A path ending in "/" holds
 * everything below that folder, one ending in "/*" only the files directly in it, any
 * other exactly that file.
 */
export interface Layer {
  name: string;
  paths: string[];
  /** Layers this one may import (its own is always allowed). */
  may: string[];
}

export interface Violation {
  kind: "layer" | "cycle" | "unassigned";
  message: string;
}

/** Files in `root` ending in .ts (not .d.ts), as paths relative to `base`, "/"-separated. */
function sourceFiles(base: string, root: string): string[] {
  return readdirSync(join(base, root)).flatMap((name) => {
    const rel = posix.join(root, name);
    if (statSync(join(base, rel)).isDirectory()) return sourceFiles(base, rel);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [rel] : [];
  });
}

/** The files one file imports, inside the tree (packages and node: modules are not edges). */
function importsOf(base: string, file: string, files: Set<string>): string[] {
  const info = ts.preProcessFile(readFileSync(join(base, file), "utf8"), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith(".")) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, "");
    const found = [`${target}.ts`, `${target}/index.ts`].find((f) => files.has(f));
    if (found) out.push(found);
  }
  return [...new Set(out)];
}

export function importGraph(base: string, root: string): Map<string, string[]> {
  const files = new Set(sourceFiles(base, root));
  return new Map([...files].sort().map((f) => [f, importsOf(base, f, files)]));
}

/** The layer a file belongs to: the one whose path matches it most specifically. */
export function layerOf(layers: readonly Layer[], file: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of layers) {
    for (const p of layer.paths) {
      const hit = p.endsWith("/*")
        ? posix.dirname(file) === p.slice(0, -2)
        : p.endsWith("/")
          ? file.startsWith(p)
          : file === p;
      if (hit && (!best || p.length > best.length)) best = { layer, length: p.length };
    }
  }
  return best?.layer;
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => ((a[0] ?? "") < (b[0] ?? "") ? -1 : 1));
}

/** What breaks the rule in the tree `root` below `base`: one violation per import, cycle or file outside every layer. */
export function checkImports(base: string, root: string, layers: readonly Layer[]): Violation[] {
  const graph = importGraph(base, root);
  const violations: Violation[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(layers, file);
    if (!from) {
      violations.push({ kind: "unassigned", message: `${file} is in no layer of the import rule` });
      continue;
    }
    for (const imported of imports) {
      const to = layerOf(layers, imported);
      if (!to || to === from || from.may.includes(to.name)) continue;
      violations.push({
        kind: "layer",
        message: `${file} (${from.name}) imports ${imported} (${to.name}); ${from.name} may import ${from.may.join(", ") || "nothing"}`,
      });
    }
  }
  for (const cycle of cycles(graph)) {
    violations.push({ kind: "cycle", message: `import cycle: ${cycle.join(" -> ")}` });
  }
  return violations;
}
