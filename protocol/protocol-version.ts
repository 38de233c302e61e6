import { quoted, ValidationError } from "./errors.ts";

/**
 * memfarm's release, as package.json's "version" says (test/protocol/protocol-version.test.ts keeps
 * the two equal). A constant rather than a read of package.json: the agent runs as one bundled
 * file on hosts that have no package.json.
 */
export const MEMFARM_VERSION = "0.1.0";

/**
 * The number of the wire protocol between coordinator and agents: raised whenever a message
 * changes in a way the other side must know about. 1 is the first protocol that says its version;
 * agents from before it say nothing, and count as protocol 0 and release "0.0.0".
 */
export const PROTOCOL_VERSION = 1;

/** What an agent or a coordinator says it is. `release` is null for agents from before versions. */
export interface SpokenVersion {
  release: string | null;
  protocol: number;
}

/** What this process is: memfarm's own release and protocol (tests may pretend otherwise). */
export const OWN_VERSION: SpokenVersion = { release: MEMFARM_VERSION, protocol: PROTOCOL_VERSION };

/** What an agent that says nothing about its version is taken for: older than the first versioned release. */
export const UNVERSIONED: SpokenVersion = { release: null, protocol: 0 };

export interface ReleaseNumber {
  major: number;
  minor: number;
  patch: number;
}

/** MAJOR.MINOR.PATCH with an optional -prerelease and +build, as npm writes versions. */
const RELEASE =
  /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})(?:-[0-9A-Za-z.-]{1,40})?(?:\+[0-9A-Za-z.-]{1,40})?$/;

export function isRelease(text: string): boolean {
  return RELEASE.test(text);
}

/** "0.2.1" → {0, 2, 1}; an agent from before versions (null) → 0.0.0. */
export function releaseNumber(release: string | null): ReleaseNumber {
  const match = RELEASE.exec(release ?? "0.0.0");
  if (!match)
    throw new ValidationError("invalid_version", `${quoted(release ?? "")} is not MAJOR.MINOR.PATCH`);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** What `memfarm hosts` and the dashboard show for an agent's release: `0.2.0`, or `pre-0.1.0`. */
export function releaseText(release: string | null): string {
  return release ?? "pre-0.1.0";
}

/** `memfarm 0.2.0 (protocol 1)`, or `memfarm from before 0.1.0 (no version)` for an unversioned agent. */
export function describeVersion(version: SpokenVersion): string {
  return version.release === null
    ? "memfarm from before 0.1.0 (it sends no version)"
    : `memfarm ${version.release} (protocol ${version.protocol})`;
}

/** How a register request (the agent's) and its reply (the coordinator's) carry a version on the wire. */
export interface VersionFields {
  /** package.json's "version" of the sender, e.g. "0.2.0". */
  version?: string;
  /** PROTOCOL_VERSION of the sender. */
  protocolVersion?: number;
}

/**
 * Reads the version fields of a register request or reply: both absent (a peer from before
 * versions), or a release and a whole protocol number. `whose` starts the error ("the agent's ").
 */
export function readSpokenVersion(fields: Record<string, unknown>, whose: string): SpokenVersion {
  const { version, protocolVersion } = fields;
  if (version === undefined && protocolVersion === undefined) return UNVERSIONED;
  const fix = "; reinstall a released memfarm there (memfarm hosts upgrade NAME for an agent)";
  if (typeof version !== "string" || !isRelease(version)) {
    const given =
      version === undefined
        ? "missing"
        : quoted(typeof version === "string" ? version : JSON.stringify(version));
    throw new ValidationError(
      "invalid_version",
      `${whose}version must be a release like "0.2.0", not ${given}${fix}`,
      "version",
    );
  }
  if (typeof protocolVersion !== "number" || !Number.isSafeInteger(protocolVersion) || protocolVersion < 1) {
    throw new ValidationError(
      "invalid_version",
      `${whose}protocolVersion must be a whole number >= 1 next to version ${quoted(version)}${fix}`,
      "protocolVersion",
    );
  }
  return { release: version, protocol: protocolVersion };
}

/** The fields a message carries for a version: none for an unversioned one (as old agents sent). */
export function versionFields(version: SpokenVersion): VersionFields {
  return version.release === null ? {} : { version: version.release, protocolVersion: version.protocol };
}

/** The version a register request or reply carries (UNVERSIONED when it carries none). */
export function spokenVersionOf(fields: VersionFields): SpokenVersion {
  return fields.version === undefined
    ? UNVERSIONED
    : { release: fields.version, protocol: fields.protocolVersion ?? 0 };
}
