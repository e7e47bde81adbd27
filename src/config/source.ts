/**
 * YAML text with source positions: parses a document once and answers "where is
 * this key path" for locating problems. Syntax errors become problems too.
 */
import { type Document, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { ConfigPath, Problem } from "./problem.js";

export interface ConfigSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  data: unknown;
  syntaxProblems: Problem[];
}

export function parseSource(file: string, text: string): ConfigSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntaxProblems: Problem[] = [...doc.errors, ...doc.warnings].map((err) => {
    const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
    return {
      file,
      line: pos.line,
      col: pos.col,
      path: [],
      message: yamlMessage(err.code, err.message),
      hint: yamlHint(err.code),
    };
  });
  const data = doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 });
  return { file, doc, lines, data, syntaxProblems };
}

function yamlMessage(code: string, message: string): string {
  const first = message.split("\n")[0] ?? message;
  if (code === "DUPLICATE_KEY") return "YAML: a key appears twice in the same mapping";
  return `YAML: ${first.replace(/ at line \d+, column \d+:?$/, "")}`;
}

function yamlHint(code: string): string | undefined {
  if (code === "DUPLICATE_KEY") return "remove or rename one of them";
  if (code === "TAB_AS_INDENT") return "indent with spaces, not tabs";
  if (code === "BAD_INDENT" || code === "MISSING_CHAR") return "check the indentation and the : after each key";
  return undefined;
}

/** Line and column (1-based) of the value at `path`, or of its key when `atKey`; falls back to the nearest parent. */
export function locate(src: ConfigSource, path: ConfigPath, atKey = false): { line: number; col: number } {
  let node: unknown = src.doc.contents;
  let keyNode: unknown;
  let best: unknown = node;
  for (const seg of path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
      best = node ?? keyNode;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg];
      if (node === undefined) break;
      best = node;
    } else {
      break;
    }
  }
  const target = atKey && keyNode !== undefined ? keyNode : best;
  const offset = isNode(target) && target.range ? target.range[0] : 0;
  const pos = src.lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}
