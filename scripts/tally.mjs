/**
 * The test command's tally: every runner's outcome goes into one file, and
 * `summary` prints the skipped and failed tests and the closing line
 * `N passed, N failed, N skipped`, exiting 1 when anything failed.
 *
 * What must stay true: a test that did not pass is counted as failed — a failing
 * test, a cancelled one, a failing hook, a file that did not finish, a runner that
 * died or exited non-zero without saying why, a skip without a reason.
 *
 *   node scripts/tally.mjs step   TALLY NAME EXIT_CODE
 *   node scripts/tally.mjs node   TALLY NAME EXIT_CODE EVENTS.jsonl   (from scripts/test-reporter.mjs)
 *   node scripts/tally.mjs pytest TALLY NAME EXIT_CODE JUNIT.xml
 *   node scripts/tally.mjs summary TALLY
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";

const [command, tally, name, codeText, resultFile] = process.argv.slice(2);

function record(entry) {
  appendFileSync(tally, `${JSON.stringify(entry)}\n`);
}

function fromStep(code) {
  return code === 0
    ? { passed: 1, failed: [], skipped: [] }
    : { passed: 0, failed: [{ name, reason: `exited with ${code}` }], skipped: [] };
}

function noFailureButExit(code, failed, what) {
  if (code !== 0 && failed.length === 0) failed.push({ name, reason: `${what} exited with ${code}` });
}

function fromNodeEvents(code, file) {
  const out = { passed: 0, failed: [], skipped: [] };
  if (!existsSync(file)) {
    out.failed.push({ name, reason: `the test runner wrote no results (exit ${code})` });
    return out;
  }
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const e = JSON.parse(line);
    const label = `${e.file ? `${e.file.replace(/^.*\/dist\//, "")}: ` : ""}${e.name}`;
    if (e.outcome === "pass") out.passed += 1;
    else if (e.outcome === "fail") out.failed.push({ name: label, reason: e.reason });
    else if (e.reason) out.skipped.push({ name: label, reason: e.todo ? `todo: ${e.reason}` : e.reason });
    else out.failed.push({ name: label, reason: "skipped without a reason" });
  }
  noFailureButExit(code, out.failed, "node's test runner");
  return out;
}

function unescapeXml(s) {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, "&");
}

function attribute(attrs, key) {
  const m = new RegExp(`\\b${key}="([^"]*)"`).exec(attrs);
  return m ? unescapeXml(m[1]) : "";
}

function fromJunit(code, file) {
  const out = { passed: 0, failed: [], skipped: [] };
  if (!existsSync(file)) {
    out.failed.push({ name, reason: `pytest wrote no report (exit ${code})` });
    return out;
  }
  const xml = readFileSync(file, "utf8");
  const cases = /<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(cases)) {
    const attrs = m[1] ?? "";
    const body = m[2] ?? "";
    const label = `${attribute(attrs, "classname")}::${attribute(attrs, "name")}`;
    const problem = /<(failure|error)\b([^>]*)/.exec(body);
    const skip = /<skipped\b([^>]*)/.exec(body);
    if (problem)
      out.failed.push({ name: label, reason: `${problem[1]}: ${attribute(problem[2], "message")}` });
    else if (skip) {
      const reason = attribute(skip[1], "message");
      if (reason) out.skipped.push({ name: label, reason });
      else out.failed.push({ name: label, reason: "skipped without a reason" });
    } else out.passed += 1;
  }
  if (code === 5) out.failed.push({ name, reason: "pytest collected no tests" });
  noFailureButExit(code, out.failed, "pytest");
  return out;
}

function summary() {
  const entries = existsSync(tally)
    ? readFileSync(tally, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l))
    : [];
  let passed = 0;
  const failed = [];
  const skipped = [];
  for (const e of entries) {
    passed += e.passed;
    for (const f of e.failed) failed.push({ runner: e.runner, ...f });
    for (const s of e.skipped) skipped.push({ runner: e.runner, ...s });
  }
  if (entries.length === 0) failed.push({ runner: "tally", name: "no runner recorded anything", reason: "" });
  const list = (title, items) => {
    if (items.length === 0) return;
    console.log(`\n${title} (${items.length}):`);
    for (const i of items) console.log(`  - [${i.runner}] ${i.name}${i.reason ? ` — ${i.reason}` : ""}`);
  };
  list("skipped", skipped);
  list("failed", failed);
  console.log(`\n${passed} passed, ${failed.length} failed, ${skipped.length} skipped`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

const code = Number(codeText);
switch (command) {
  case "step":
    record({ runner: name, ...fromStep(code) });
    break;
  case "node":
    record({ runner: name, ...fromNodeEvents(code, resultFile) });
    break;
  case "pytest":
    record({ runner: name, ...fromJunit(code, resultFile) });
    break;
  case "summary":
    summary();
    break;
  default:
    console.error("usage: tally.mjs step|node|pytest|summary TALLY [NAME EXIT_CODE [FILE]]");
    process.exitCode = 2;
}
