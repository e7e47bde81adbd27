import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closest, editDistance } from "../../src/config/suggest.js";
import { formatSize, parseDuration, parseSize, sizeHint } from "../../src/config/units.js";

describe("sizes and durations", () => {
  it("parses sizes in both unit systems", () => {
    assert.equal(parseSize("4G"), 4e9);
    assert.equal(parseSize("512Mi"), 512 * 1024 * 1024);
    assert.equal(parseSize("1.5Gi"), 1.5 * 1024 ** 3);
    assert.equal(parseSize(1024), 1024);
    assert.equal(parseSize("8Gb"), undefined);
    assert.equal(parseSize(-1), undefined);
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
  it("formats sizes back", () => {
    assert.equal(formatSize(4 * 1024 ** 3), "4Gi");
    assert.equal(formatSize(2e9), "2G");
    assert.equal(formatSize(1001), "1001");
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
