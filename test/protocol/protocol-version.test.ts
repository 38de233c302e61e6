import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PACKAGE_ROOT } from "../../coordinator/paths.ts";
import { parseRegisterReply, parseRegisterRequest } from "../../protocol/messages.ts";
import {
  isRelease,
  MEMFARM_VERSION,
  PROTOCOL_VERSION,
  readSpokenVersion,
  UNVERSIONED,
} from "../../protocol/protocol-version.ts";

const facts = { hostname: "h", arch: "x86_64", cores: 2, memoryBytes: 1024 ** 3, labels: {} };
const register = (extra: Record<string, unknown>) =>
  JSON.stringify({ name: "host-a", facts, running: [], ...extra });

describe("the versions agents and coordinators say", () => {
  it("says package.json's version (bump both together when releasing)", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(MEMFARM_VERSION, pkg.version);
    assert.ok(isRelease(MEMFARM_VERSION));
    assert.ok(Number.isSafeInteger(PROTOCOL_VERSION) && PROTOCOL_VERSION >= 1);
  });

  it("reads a register request's version, and none from an agent from before versions", () => {
    const versioned = parseRegisterRequest(register({ version: "0.2.1", protocolVersion: 2 }));
    assert.equal(versioned.version, "0.2.1");
    assert.equal(versioned.protocolVersion, 2);
    const old = parseRegisterRequest(register({}));
    assert.equal(old.version, undefined);
    assert.deepEqual(readSpokenVersion({}, ""), UNVERSIONED);
    const reply = parseRegisterReply({ heartbeatIntervalMs: 2000, version: "0.1.0", protocolVersion: 1 });
    assert.equal(reply.version, "0.1.0");
    assert.equal(parseRegisterReply({ heartbeatIntervalMs: 2000 }).version, undefined);
  });

  it("refuses bad version fields with a message that names the field and what to do", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ version: 42, protocolVersion: 1 }, /the agent's version must be a release like "0\.2\.0", not "42"/],
      [{ version: "banana", protocolVersion: 1 }, /not "banana"; reinstall a released memfarm/],
      [{ version: "0.2", protocolVersion: 1 }, /not "0\.2"/],
      [{ version: "0.2.0\nforged line", protocolVersion: 1 }, /not "0\.2\.0\\nforged line"/],
      [{ version: "0.2.0" }, /protocolVersion must be a whole number >= 1 next to version "0\.2\.0"/],
      [{ version: "0.2.0", protocolVersion: 1.5 }, /protocolVersion must be a whole number/],
      [{ protocolVersion: 1 }, /version must be a release like "0\.2\.0", not missing/],
    ];
    for (const [fields, message] of bad) {
      assert.throws(
        () => parseRegisterRequest(register(fields)),
        (error: Error & { code?: string }) => error.code === "invalid_version" && message.test(error.message),
        JSON.stringify(fields),
      );
    }
  });
});
