/**
 * YAML syntax errors as problems a person can act on: located where the mistake
 * is (an unclosed quote where it opens, a duplicate key at the second one) and
 * worded without the YAML library's jargon. Reading the data out of a document
 * (aliases expanded) never throws either.
 */
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type YAMLError,
} from "yaml";
import { formatPath, type Problem } from "./problem.js";
import { quote } from "./text.js";

type Path = Array<string | number>;

interface Located {
  node: { range?: [number, number, number] | null };
  path: Path;
}

/** Every node (keys too) with the config path it sits at. */
function nodes(doc: Document): Located[] {
  const out: Located[] = [];
  const walk = (node: unknown, path: Path) => {
    if (!isNode(node)) return;
    out.push({ node, path });
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (isNode(pair.key)) out.push({ node: pair.key, path: [...path, key] });
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...path, i]);
      });
    }
  };
  walk(doc.contents, []);
  return out;
}

/** The path of the smallest node that holds `offset`; the whole file if none does. */
function pathAt(all: Located[], offset: number): Path {
  let best: Located | undefined;
  for (const l of all) {
    const r = l.node.range;
    if (!r || offset < r[0] || offset > r[1]) continue;
    if (!best?.node.range || r[1] - r[0] <= best.node.range[1] - best.node.range[0]) best = l;
  }
  return best?.path ?? [];
}

function lineText(text: string, line: number): string {
  return text.split("\n")[line - 1] ?? "";
}

function indentOf(s: string): number {
  return s.length - s.trimStart().length;
}

interface Draft {
  offset: number;
  path?: Path;
  message: string;
  hint?: string;
}

function duplicateKeys(doc: Document, lines: LineCounter): Draft[] {
  const out: Draft[] = [];
  for (const { node, path } of nodes(doc)) {
    if (!isMap(node)) continue;
    const first = new Map<unknown, number>();
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key) || !pair.key.range) continue;
      const key = pair.key.value;
      const seen = first.get(key);
      if (seen === undefined) {
        first.set(key, pair.key.range[0]);
        continue;
      }
      const where = path.length === 0 ? "the file" : formatPath(path);
      out.push({
        offset: pair.key.range[0],
        path: [...path, String(key)],
        message: `key "${String(key)}" appears twice in ${where} (first at line ${lines.linePos(seen).line})`,
        hint: "remove one",
      });
    }
  }
  return out;
}

function explain(err: YAMLError, text: string, lines: LineCounter, all: Located[]): Draft {
  const offset = err.pos[0];
  const { line } = lines.linePos(offset);
  const here = lineText(text, line);
  const lead = here.slice(0, indentOf(here));
  if (lead.includes("\t") || err.code === "TAB_AS_INDENT") {
    const tab = here.indexOf("\t");
    // The parser can't tell what a tab-indented line belongs to, so neither can we: no key path.
    return {
      offset: offset - (lines.linePos(offset).col - 1) + Math.max(0, tab),
      path: [],
      message: "this line is indented with a tab",
      hint: "indent with spaces; YAML does not allow tabs",
    };
  }
  switch (err.code) {
    case "MULTIPLE_DOCS":
      return {
        offset,
        path: [],
        message: "a second YAML document starts here",
        hint: "an atrium.yaml holds one document; remove the --- line",
      };
    case "MISSING_CHAR": {
      const q = /closing (["'])quote/.exec(err.message)?.[1];
      if (q !== undefined) {
        const open = all.find(
          (l) =>
            isScalar(l.node) &&
            (l.node.type === "QUOTE_DOUBLE" || l.node.type === "QUOTE_SINGLE") &&
            l.node.range &&
            l.node.range[0] < offset &&
            l.node.range[1] >= offset,
        );
        return {
          offset: open?.node.range?.[0] ?? offset,
          ...(open ? { path: open.path } : {}),
          message: `the ${q} quote that starts here is never closed`,
          hint: `end the value with a matching ${q}`,
        };
      }
      if (/followed by map values/.test(err.message)) {
        const words = here.trim().replace(/^-\s+/, "");
        return {
          offset,
          message: `${quote(words)} has no ":" after it`,
          hint: "write key: value, or remove the line",
        };
      }
      return flowProblem(err, offset, all) ?? fallback(err, offset);
    }
    case "BAD_INDENT": {
      const flow = flowProblem(err, offset, all);
      if (flow) return flow;
      const list = /sequence items/.test(err.message);
      return {
        offset: offset - (lines.linePos(offset).col - 1) + indentOf(here),
        message: "this line is indented differently from the lines above it",
        hint: list
          ? "items of one list start in the same column"
          : "keys of one mapping start in the same column",
      };
    }
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY": {
      // Named after the key on the line where the value starts, not the jumble the parser made of it.
      const keyAt = offset - (lines.linePos(offset).col - 1) + indentOf(here.replace(/^(\s*)-\s+/, "$1  "));
      return { ...runOn(text, line, lines, offset), path: pathAt(all, keyAt) };
    }
    case "UNEXPECTED_TOKEN":
      if (here.slice(0, lines.linePos(offset).col - 1).trim() !== "") {
        return { offset, message: "unexpected text after the value", hint: "put the whole value in quotes" };
      }
      return {
        offset,
        message: "this line does not fit the lines above it",
        hint: 'check the indentation, and put values holding ": " or " #" in quotes',
      };
    case "BAD_SCALAR_START": {
      const ch = err.message.slice(-1);
      return {
        offset,
        message: `a value can't start with ${ch} unless it is in quotes`,
        hint: "put the value in quotes",
      };
    }
    case "BAD_DQ_ESCAPE":
      return {
        offset,
        message: `${err.message.replace(/^Invalid escape sequence\s*/, "")} is not an escape allowed in "double quotes"`,
        hint: "use 'single quotes', or write \\\\ for a backslash",
      };
    case "TAG_RESOLVE_FAILED":
      return {
        offset,
        message: "this YAML tag is unknown",
        hint: "remove the tag (the word starting with !)",
      };
    default:
      return fallback(err, offset);
  }
}

/** An unclosed [ or { collection, pointed at where it opens. */
function flowProblem(err: YAMLError, offset: number, all: Located[]): Draft | undefined {
  const seq = /Flow sequence|flow sequence/.test(err.message);
  const map = /Flow map|flow map/.test(err.message);
  if (!seq && !map) return undefined;
  const open = all
    .filter(
      (l) => (seq ? isSeq(l.node) : isMap(l.node)) && (l.node as { flow?: boolean }).flow && l.node.range,
    )
    .filter((l) => (l.node.range?.[0] ?? offset) < offset)
    .pop();
  const [o, c, what] = seq ? ["[", "]", "list"] : ["{", "}", "mapping"];
  if (/end with/.test(err.message)) {
    return {
      offset: open?.node.range?.[0] ?? offset,
      ...(open ? { path: open.path } : {}),
      message: `the ${o} ${what} that starts here is never closed`,
      hint: `end it with ${c}`,
    };
  }
  return {
    offset,
    message: `this ${o} ${what} is not written right`,
    hint: `separate entries with a comma and end it with ${c}`,
  };
}

/** A value that runs on into the next line, or a value holding ": ". */
function runOn(text: string, line: number, lines: LineCounter, offset: number): Draft {
  const all = text.split("\n");
  const here = all[line - 1] ?? "";
  let next = line;
  while (next < all.length && /^\s*(#.*)?$/.test(all[next] ?? "")) next++;
  const after = all[next] ?? "";
  const key = /^\s*(?:-\s+)?([^\s:#][^:#]*):/.exec(here)?.[1];
  if (next < all.length && indentOf(after) > indentOf(here) && after.includes(":")) {
    const start = lines.lineStarts[next] ?? offset;
    return {
      offset: start + indentOf(after),
      message: "this line is indented more than the key above it",
      hint: key ? `line it up with ${key} on line ${line}` : "keys of one mapping start in the same column",
    };
  }
  const value = here.slice(here.indexOf(":") + 1).trim();
  if (/: /.test(value)) {
    return {
      offset,
      message: 'the value holds ": " and reads as a second key',
      hint: `put the value in quotes: ${key ?? "key"}: "${value}"`,
    };
  }
  return {
    offset,
    message: "a value runs on over several lines here",
    hint: "check the indentation of the next line, or put the value in quotes",
  };
}

function fallback(err: YAMLError, offset: number): Draft {
  const first = (err.message.split("\n")[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, "");
  return {
    offset,
    message: `this is not valid YAML: ${first}`,
    hint: "check the indentation and the : after each key",
  };
}

/** All syntax problems of a parsed document, one per line at most. */
export function yamlProblems(file: string, text: string, doc: Document, lines: LineCounter): Problem[] {
  const all = nodes(doc);
  const drafts: Draft[] = [];
  const errors = [...doc.errors, ...doc.warnings];
  if (errors.some((e) => e.code === "DUPLICATE_KEY")) drafts.push(...duplicateKeys(doc, lines));
  for (const err of errors) if (err.code !== "DUPLICATE_KEY") drafts.push(explain(err, text, lines, all));
  // One problem a line: the parser's first complaint about a spot is the most precise.
  const seen = new Set<number>();
  const out: Problem[] = [];
  for (const d of drafts) {
    const { line, col } = lines.linePos(d.offset);
    if (seen.has(line)) continue;
    seen.add(line);
    const p: Problem = { file, line, col, path: d.path ?? pathAt(all, d.offset), message: d.message };
    if (d.hint !== undefined) p.hint = d.hint;
    out.push(p);
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * Aliases (*name) are expanded up to a generous count: enough for any real file,
 * too few for a "billion laughs" file to exhaust memory.
 */
export const MAX_ALIAS_COUNT = 10000;

export function readData(
  file: string,
  doc: Document,
  lines: LineCounter,
): { data: unknown; problems: Problem[] } {
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), problems: [] };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const aliases = nodes(doc).filter((l) => isAlias(l.node));
    const at = (l: Located | undefined) => lines.linePos(l?.node.range?.[0] ?? 0);
    const name = /Unresolved alias[^:]*:\s*(\S+)/.exec(msg)?.[1];
    if (name !== undefined) {
      const alias = aliases.find((l) => isAlias(l.node) && l.node.source === name);
      const { line, col } = at(alias);
      return {
        data: undefined,
        problems: [
          {
            file,
            line,
            col,
            path: alias?.path ?? [],
            message: `alias *${name} has no anchor &${name} before it`,
            hint: `put &${name} on a value above, or write the value out`,
          },
        ],
      };
    }
    const { line, col } = at(aliases[0]);
    const excessive = /alias count/i.test(msg);
    return {
      data: undefined,
      problems: [
        {
          file,
          line,
          col,
          path: [],
          message: excessive
            ? `the aliases (*name) in this file expand to more than ${MAX_ALIAS_COUNT} values`
            : `the YAML can't be read: ${msg}`,
          hint: excessive
            ? "write the values out, or use fewer aliases"
            : "check the anchors (&name) and aliases (*name)",
        },
      ],
    };
  }
}
