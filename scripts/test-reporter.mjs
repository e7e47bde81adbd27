/**
 * A node:test reporter that writes one JSON line per test outcome, for the test
 * command's tally (scripts/tally.mjs). It decides nothing: it records what the
 * runner said, so that the tally can count cancelled tests, failed hooks and files
 * that did not finish as failures, and skips with their reasons.
 *
 *   {"outcome":"pass"|"fail"|"skip", "name", "file", "kind":"test"|"suite", "reason"?}
 *
 * A suite is recorded only when it failed for a reason of its own (a hook), not
 * when it failed because a test inside it did (that test is recorded already).
 */
export default async function* testReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const d = event.data;
    const kind = d.details?.type === "suite" ? "suite" : "test";
    const where = { name: d.name, file: d.file ?? "" };
    if (event.type === "test:fail") {
      const failureType = d.details?.error?.failureType ?? "";
      if (kind === "suite" && failureType === "subtestsFailed") continue;
      const cause = d.details?.error?.cause;
      const message =
        cause instanceof Error ? cause.message : String(cause ?? d.details?.error?.message ?? "");
      yield `${JSON.stringify({ outcome: "fail", kind, ...where, reason: `${failureType}: ${message}`.slice(0, 300) })}\n`;
    } else if (d.skip !== undefined || d.todo !== undefined) {
      const why = d.skip ?? d.todo;
      const reason = typeof why === "string" && why.trim() !== "" ? why : "";
      yield `${JSON.stringify({ outcome: "skip", kind, ...where, reason, todo: d.todo !== undefined })}\n`;
    } else if (kind === "test") {
      yield `${JSON.stringify({ outcome: "pass", kind, ...where })}\n`;
    }
  }
}
