import { ConflictError } from "../../protocol/errors.ts";
import {
  describeVersion,
  type ReleaseNumber,
  releaseNumber,
  type SpokenVersion,
} from "../../protocol/protocol-version.ts";

/**
 * Which agents a coordinator takes, by the version they say at registration
 * (docs/operations/upgrade.md says the same to admins):
 *
 * - The compatibility unit is the release line MAJOR.MINOR (a patch release changes no message).
 *   A coordinator takes agents of its own line and of the line one minor version behind, so the
 *   coordinator can be upgraded first and the hosts one by one after it: 0.3.x takes 0.3.x and
 *   0.2.x. Across a major release (1.0.x) only the same major is taken.
 * - An agent that says no version is from before versions were said: it counts as 0.0.0 and
 *   protocol 0 (taken by 0.1.x, refused from 0.2.0 on).
 * - An agent newer than the coordinator (a newer line, or a protocol the coordinator does not
 *   know) is refused: the coordinator cannot know what it will send. The coordinator goes first.
 */
export function checkAgentVersion(agent: string, version: SpokenVersion, coordinator: SpokenVersion): void {
  const own = releaseNumber(coordinator.release);
  const theirs = releaseNumber(version.release);
  const ours = `the coordinator's ${describeVersion(coordinator)}`;
  if (version.protocol > coordinator.protocol || lineOrder(theirs, own) > 0) {
    throw new ConflictError(
      "agent_newer_than_coordinator",
      `this agent ${agent} runs ${describeVersion(version)}, which is newer than ${ours}: upgrade the coordinator first, then the agent joins by itself`,
    );
  }
  if (theirs.major !== own.major || theirs.minor < own.minor - 1) {
    throw new ConflictError(
      "agent_too_old",
      `this agent ${agent} runs ${describeVersion(version)}, more than one minor version behind ${ours} (it takes ${acceptedLines(own)}): upgrade the agent with "memfarm hosts upgrade ${agent}" (or install memfarm ${own.major}.${own.minor} on that host and restart the agent)`,
    );
  }
}

/** Whether the coordinator takes the agent: checkAgentVersion without the words. */
export function acceptsAgentVersion(version: SpokenVersion, coordinator: SpokenVersion): boolean {
  try {
    checkAgentVersion("", version, coordinator);
    return true;
  } catch {
    return false;
  }
}

/** Negative when `a`'s release line is older than `b`'s, 0 on the same line, positive when newer. */
function lineOrder(a: ReleaseNumber, b: ReleaseNumber): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** The release lines a coordinator takes agents of: `0.3.x and 0.2.x`. */
export function takenLines(coordinator: SpokenVersion): string {
  return acceptedLines(releaseNumber(coordinator.release));
}

function acceptedLines(own: ReleaseNumber): string {
  const line = `${own.major}.${own.minor}.x`;
  return own.minor === 0 ? line : `${line} and ${own.major}.${own.minor - 1}.x`;
}
