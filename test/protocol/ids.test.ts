import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "../../protocol/errors.ts";
import { jobIdOrNull, parseJobId, parseTokenId } from "../../protocol/ids.ts";

describe("job and token ids", () => {
  it("are whole numbers from 1, as typed in URLs and commands", () => {
    assert.equal(parseJobId("42"), 42);
    assert.equal(parseJobId("007"), 7);
    assert.equal(parseJobId("999999999999999"), 999_999_999_999_999);
    assert.equal(parseTokenId("3"), 3);
    assert.equal(jobIdOrNull("42"), 42);
  });

  it("refuse anything else with one message that names the field and shows an id", () => {
    for (const text of [
      "",
      "0",
      "-1",
      "1.5",
      "1e3",
      " 42",
      "42 ",
      "0x10",
      "abc",
      "1234567890123456",
      undefined,
      42,
      ["1"],
    ]) {
      assert.equal(jobIdOrNull(text), null, JSON.stringify(text));
      assert.throws(
        () => parseJobId(text, "JOB"),
        (error: unknown) =>
          error instanceof ValidationError &&
          error.code === "invalid_job_id" &&
          error.field === "JOB" &&
          /^JOB: .* is not a job id; job ids are whole numbers like 42$/.test(error.message),
        JSON.stringify(text),
      );
    }
    assert.throws(() => parseTokenId("x"), { code: "invalid_token_id", message: /"x" is not a token id/ });
  });
});
