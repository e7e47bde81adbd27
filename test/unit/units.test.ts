import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closest, editDistance } from "../../src/config/suggest.js";
import { durationHint, formatSize, parseDuration, parseSize, sizeHint } from "../../src/config/units.js";

describe("sizes and durations", () => {
  it("parses sizes in both unit systems", () => {
    assert.equal(parseSize("4G"), 4e9);
    assert.equal(parseSize("512Mi"), 512 * 1024 * 1024);
    assert.equal(parseSize("1.5Gi"), 1.5 * 1024 ** 3);
    assert.equal(parseSize(1024), 1024);
    assert.equal(parseSize("8Gb"), undefined);
    assert.equal(parseSize(-1), undefined);
  });
  it("rejects spaces, as the JSON Schema pattern does", () => {
    assert.equal(parseSize("4 G"), undefined);
    assert.equal(parseSize(" 4G"), undefined);
    assert.equal(parseDuration(" 30 m"), undefined);
    assert.equal(parseDuration("30 m"), undefined);
  });
  it("suggests the fix for an almost-size", () => {
    assert.equal(sizeHint("8Gb"), "use 8G or 8Gi");
  });
  it("parses durations", () => {
    assert.equal(parseDuration("90s"), 90);
    assert.equal(parseDuration("30m"), 1800);
    assert.equal(parseDuration("2d"), 172800);
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration("1 hour"), undefined);
  });
  it("suggests the duration meant", () => {
    assert.equal(durationHint("30min"), "write 30m");
    assert.equal(durationHint("1.5h"), "write 90m");
    assert.equal(durationHint("1w"), "write 7d");
    assert.equal(durationHint(" 30 m"), "write 30m");
    assert.equal(durationHint("soon"), "use a whole number with s, m, h or d, e.g. 90s, 30m, 1h");
  });
  it("formats sizes back", () => {
    assert.equal(formatSize(4 * 1024 ** 3), "4Gi");
    assert.equal(formatSize(2e9), "2G");
    assert.equal(formatSize(1001), "1001");
    assert.equal(formatSize(1024), "1Ki");
    assert.equal(formatSize(1000), "1K");
    assert.equal(formatSize(1.5 * 1024 ** 3), "1536Mi");
    assert.equal(formatSize(0), "0");
  });
});

describe("suggestions", () => {
  it("counts a swap of neighbours as one edit", () => {
    assert.equal(editDistance("prot", "port"), 1);
    assert.equal(editDistance("mem_limt", "mem_limit"), 1);
  });
  it("finds close keys and ignores far ones", () => {
    assert.equal(closest("mem_limt", ["mem_limit", "cpu_limit"]), "mem_limit");
    assert.equal(closest("zzz", ["mem_limit"]), undefined);
  });
});
