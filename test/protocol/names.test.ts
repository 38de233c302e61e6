import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "../../protocol/errors.ts";
import { agentNameFromHost, checkAgentName, isAgentName } from "../../protocol/names.ts";

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

  it("come from a hostname the same way for an agent and for a host added over SSH", () => {
    const cases: [string, string][] = [
      ["arm1", "arm1"],
      ["arm1.example.org", "arm1"],
      ["ARM_1.lab", "ARM_1"],
      ["127.0.0.1", "127-0-0-1"],
      ["::1", "1"],
      ["fe80::1", "fe80--1"],
      ["-weird+host", "weird-host"],
      ["_x.y", "x"],
      [`${"x".repeat(70)}.example.org`, "x".repeat(63)],
      ["", "agent"],
      ["---", "agent"],
    ];
    for (const [host, name] of cases) {
      assert.equal(agentNameFromHost(host), name, host);
      assert.ok(isAgentName(agentNameFromHost(host)), host);
    }
  });
});
