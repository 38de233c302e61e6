import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ValidationError } from "../../protocol/errors.ts";
import { memlimitArgument, parseMemlimit, parseSize } from "../../protocol/sizes.ts";

describe("sizes", () => {
  it("reads what regrtest reads, in binary units, and plain bytes", () => {
    assert.equal(parseSize("60g", "m"), 60 * 1024 ** 3);
    assert.equal(parseSize("2.5Gb", "m"), 2.5 * 1024 ** 3);
    assert.equal(parseSize("512M", "m"), 512 * 1024 ** 2);
    assert.equal(parseSize("1 T", "m"), 1024 ** 4);
    assert.equal(parseSize("4096", "m"), 4096);
  });

  it("rejects sizes regrtest would reject, naming the field", () => {
    for (const text of ["12Q", "", "g", "-1G", "1e9", "2GiB", "60 gigs"]) {
      assert.throws(
        () => parseSize(text, "memlimit"),
        (error: ValidationError) => error.field === "memlimit",
      );
    }
  });

  it("refuses a memlimit under 2 GiB, as regrtest does", () => {
    assert.throws(() => parseMemlimit("1G"), /under 2 GiB/);
    assert.throws(() => parseMemlimit("2047M"), /under 2 GiB/);
    assert.equal(parseMemlimit("2G"), 2 * 1024 ** 3);
  });

  it("writes the -M argument in the largest exact unit", () => {
    assert.equal(memlimitArgument(60 * 1024 ** 3), "60G");
    assert.equal(memlimitArgument(2.5 * 1024 ** 3), "2560M");
    assert.equal(memlimitArgument(2 * 1024 ** 3 + 1024), "2097153K");
  });
});
