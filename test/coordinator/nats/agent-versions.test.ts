import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  acceptsAgentVersion,
  checkAgentVersion,
  takenLines,
} from "../../../coordinator/nats/agent-versions.ts";
import { MemfarmError } from "../../../protocol/errors.ts";
import { OWN_VERSION, type SpokenVersion, UNVERSIONED } from "../../../protocol/protocol-version.ts";

const v = (release: string, protocol = 1): SpokenVersion => ({ release, protocol });

/** The refusal's code, or "taken". */
function verdict(agent: SpokenVersion, coordinator: SpokenVersion): string {
  try {
    checkAgentVersion("host-a", agent, coordinator);
    return "taken";
  } catch (thrown) {
    assert.ok(thrown instanceof MemfarmError);
    return thrown.code;
  }
}

describe("which agent versions a coordinator takes", () => {
  it("takes its own release line and the one a minor version behind, patch releases alike", () => {
    const coordinator = v("0.3.2");
    assert.equal(verdict(v("0.3.2"), coordinator), "taken");
    assert.equal(verdict(v("0.3.0"), coordinator), "taken");
    assert.equal(
      verdict(v("0.3.9"), coordinator),
      "taken",
      "a newer patch of the same line changes no message",
    );
    assert.equal(verdict(v("0.2.0"), coordinator), "taken");
    assert.equal(verdict(v("0.2.7-rc.1"), coordinator), "taken");
    assert.equal(takenLines(coordinator), "0.3.x and 0.2.x");
  });

  it("refuses agents two minor versions behind, or of an older major, with the upgrade command", () => {
    assert.equal(verdict(v("0.1.4"), v("0.3.0")), "agent_too_old");
    assert.equal(
      verdict(v("0.9.0"), v("1.0.0")),
      "agent_too_old",
      "a major release takes only its own major",
    );
    assert.equal(takenLines(v("1.0.0")), "1.0.x");
    assert.throws(
      () => checkAgentVersion("host-a", v("0.1.4"), v("0.3.0")),
      (error: Error) =>
        error.message.includes("memfarm 0.1.4") &&
        error.message.includes("0.3.x and 0.2.x") &&
        error.message.includes('"memfarm hosts upgrade host-a"'),
    );
  });

  it("counts an agent that says no version as older than the first versioned release", () => {
    // This release (0.1.x) still takes them, as one minor behind; 0.2.0 no longer does.
    assert.equal(verdict(UNVERSIONED, v("0.1.0")), "taken");
    assert.equal(verdict(UNVERSIONED, OWN_VERSION), "taken");
    assert.equal(verdict(UNVERSIONED, v("0.2.0")), "agent_too_old");
    assert.throws(
      () => checkAgentVersion("host-a", UNVERSIONED, v("0.2.0")),
      /from before 0\.1\.0 .*memfarm hosts upgrade host-a/,
    );
  });

  it("refuses agents newer than the coordinator (a newer line or protocol): the coordinator goes first", () => {
    assert.equal(verdict(v("0.4.0"), v("0.3.5")), "agent_newer_than_coordinator");
    assert.equal(verdict(v("1.0.0"), v("0.9.0")), "agent_newer_than_coordinator");
    assert.equal(verdict(v("0.3.1", 3), v("0.3.0", 2)), "agent_newer_than_coordinator");
    assert.throws(() => checkAgentVersion("host-a", v("0.3.0", 3), v("0.2.0", 2)), {
      message:
        "this agent host-a runs memfarm 0.3.0 (protocol 3), which is newer than the coordinator's memfarm 0.2.0 (protocol 2): upgrade the coordinator first, then the agent joins by itself",
    });
    // An older protocol within the taken lines is the coordinator's to speak.
    assert.equal(verdict(v("0.2.0", 1), v("0.3.0", 2)), "taken");
    assert.equal(acceptsAgentVersion(v("0.2.0", 1), v("0.3.0", 2)), true);
    assert.equal(acceptsAgentVersion(v("0.4.0", 1), v("0.3.0", 2)), false);
  });
});
