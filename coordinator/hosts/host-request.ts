import { readDrainTimeoutMs } from "../../protocol/drain-timeout.ts";
import { ValidationError } from "../../protocol/errors.ts";
import type { InstalledAgentOptions } from "../../protocol/installed-agent-config.ts";
import { checkAgentName, checkLabels, parseLabels } from "../../protocol/names.ts";
import { parseSize } from "../../protocol/sizes.ts";
import { type Fields, readObject, readOptionalString } from "../../protocol/validate.ts";
import { parseWindows } from "../../protocol/windows.ts";
import type { AddHostRequest } from "./host-operations.ts";
import type { SshIdentity } from "./ssh-session.ts";
import { defaultHostName, parseSshTarget } from "./ssh-target.ts";

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const PRIVATE_KEY = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** The identity for one operation, sent by the CLI that read it from --identity. */
export function readIdentity(fields: Fields): SshIdentity {
  const privateKey = fields.identity;
  if (typeof privateKey !== "string" || !PRIVATE_KEY.test(privateKey.trim())) {
    throw new ValidationError(
      "invalid_identity",
      "identity must be the text of an SSH private key (the CLI reads it from --identity FILE)",
      "identity",
    );
  }
  const passphrase = readOptionalString(fields, "passphrase");
  return passphrase === undefined ? { privateKey } : { privateKey, passphrase };
}

/** `POST /hosts`: everything checked before anything connects. */
export function readAddHostRequest(body: unknown): AddHostRequest {
  const fields = readObject(body ?? {}, "body");
  const targetText = fields.target;
  if (typeof targetText !== "string") {
    throw new ValidationError("missing_target", "target is required: ssh://USER@HOST[:PORT]", "target");
  }
  const target = parseSshTarget(targetText, "target");
  const name = checkAgentName(readOptionalString(fields, "name") ?? defaultHostName(target), "name");
  const labelsValue = fields.labels;
  const labels =
    labelsValue === undefined
      ? {}
      : typeof labelsValue === "string"
        ? parseLabels(labelsValue, "labels")
        : checkLabels(readObject(labelsValue, "labels") as Record<string, string>, "labels");
  const fingerprint = readOptionalString(fields, "fingerprint") ?? null;
  if (fingerprint !== null && !FINGERPRINT.test(fingerprint)) {
    throw new ValidationError(
      "invalid_fingerprint",
      `"${fingerprint}" is not a SHA256 host key fingerprint (SHA256: and 43 base64 characters, as ssh-keygen -lf prints)`,
      "fingerprint",
    );
  }
  const acceptNew = fields.acceptNew === true;
  if (acceptNew && fingerprint !== null) {
    throw new ValidationError(
      "conflicting_options",
      "give --accept-new or --fingerprint, not both",
      "acceptNew",
    );
  }
  return {
    name,
    target,
    labels,
    agentOptions: readAgentOptions(fields),
    identity: readIdentity(fields),
    policy: { acceptNew, fingerprint },
  };
}

/**
 * The installed agent's options, checked here by the agent's own parsers, so that a bad value is
 * refused before anything connects rather than by an agent that will not start on the host.
 * Each option `hosts add` (and the dashboard's add-host form) passes on, with that parser.
 */
const AGENT_OPTION_CHECKS: Record<keyof InstalledAgentOptions, (text: string, field: string) => unknown> = {
  memory: parseSize,
  noNewJobs: parseWindows,
  drainTimeout: readDrainTimeoutMs,
  buildCacheSize: parseSize,
};

/** The agent options' names, as the request body (and the add-host form's fields) has them. */
export const AGENT_OPTION_KEYS = Object.keys(AGENT_OPTION_CHECKS) as (keyof InstalledAgentOptions)[];

function readAgentOptions(fields: Fields): InstalledAgentOptions {
  const options: InstalledAgentOptions = {};
  for (const [key, check] of Object.entries(AGENT_OPTION_CHECKS)) {
    const value = readOptionalString(fields, key);
    if (value === undefined) continue;
    check(value, key);
    options[key as keyof InstalledAgentOptions] = value;
  }
  return options;
}
