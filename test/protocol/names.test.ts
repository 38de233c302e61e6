import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "../../protocol/errors.ts";
import { checkAgentName, isAgentName } from "../../protocol/names.ts";

describe("agent names", () => {
  it("are NATS subject tokens: letters, digits, _ and -, at most 63, not starting with - or _", () => {
    for (const name of ["arm1", "arm-500g-1", "A_1", "1", "x".repeat(63)]) {
      assert.ok(isAgentName(name), name);
      assert.equal(checkAgentName(name), name);
    }
    for (const name of ["", "arm1.example.org", "-x", "_x", "a b", "a*", "a>", "x".repeat(64), "ärm"]) {
      assert.ok(!isAgentName(name), name);
      assert.throws(
        () => checkAgentName(name, "--name"),
        (error: unknown) => error instanceof ValidationError && error.field === "--name",
      );
    }
  });
});
