/**
 * YAML text with source positions: parses a document once and answers "where is
 * this key path" for locating problems, and "how was this value written" for
 * hints (3.10 is read as the number 3.1). Syntax errors become problems too.
 */
import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import type { ConfigPath, Problem } from "./problem.js";
import { readData, yamlProblems } from "./syntax.js";

export interface ConfigSource {
  file: string;
  text: string;
  doc: Document;
  lines: LineCounter;
  data: unknown;
  syntaxProblems: Problem[];
}

export function parseSource(file: string, text: string): ConfigSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntaxProblems = yamlProblems(file, text, doc, lines);
  let data: unknown;
  if (syntaxProblems.length === 0) {
    const read = readData(file, doc, lines);
    data = read.data;
    syntaxProblems.push(...read.problems);
  }
  return { file, text, doc, lines, data, syntaxProblems };
}

/** The node at `path` and the key node naming it, as far as the path leads. */
function find(
  src: ConfigSource,
  path: ConfigPath,
): { node: unknown; keyNode: unknown; best: unknown; found: boolean } {
  let node: unknown = src.doc.contents;
  let keyNode: unknown;
  let best: unknown = node;
  for (const seg of path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair) return { node: undefined, keyNode: undefined, best, found: false };
      keyNode = pair.key;
      node = pair.value;
      best = node ?? keyNode;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg];
      if (node === undefined) return { node: undefined, keyNode: undefined, best, found: false };
      best = node;
    } else {
      return { node: undefined, keyNode: undefined, best, found: false };
    }
  }
  return { node, keyNode, best, found: true };
}

/** Line and column (1-based) of the value at `path`, or of its key when `atKey`; falls back to the nearest parent. */
export function locate(src: ConfigSource, path: ConfigPath, atKey = false): { line: number; col: number } {
  const { keyNode, best, found } = find(src, path);
  const target = atKey && found && keyNode !== undefined ? keyNode : best;
  const offset = isNode(target) && target.range ? target.range[0] : 0;
  const pos = src.lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}

/** The value at `path` exactly as written in the file ("3.10", "0123"), for scalars only. */
export function sourceText(src: ConfigSource, path: ConfigPath): string | undefined {
  const { node, found } = find(src, path);
  if (!found || !isScalar(node) || !(node as Node).range) return undefined;
  const [start, end] = (node as Node).range as [number, number, number];
  return src.text.slice(start, end).trim();
}
