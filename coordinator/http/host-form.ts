import type { Request } from "express";
import { AGENT_OPTION_KEYS } from "../hosts/host-request.ts";
import { field, rawField } from "./dashboard-guards.ts";

/**
 * The add-host fields a refused form shows again: all but the private key and its passphrase.
 * The agent options' fields are named as the API's body has them (memory, noNewJobs, ...), so
 * readAddHostRequest's one table checks them and its errors name the field to mark.
 */
export const ADD_HOST_KEPT_FIELDS = [
  "target",
  "name",
  "labels",
  "fingerprint",
  "trust",
  ...AGENT_OPTION_KEYS,
] as const;

/**
 * What the host forms ask for, as the API's request bodies, so that readAddHostRequest and
 * readIdentity check both alike. An empty field is left out, as the CLI leaves out a flag not given.
 */
export function addHostBodyFromForm(req: Request): Record<string, unknown> {
  const body: Record<string, unknown> = {
    target: field(req, "target"),
    acceptNew: field(req, "trust") === "accept-new",
    ...identityBodyFromForm(req),
  };
  for (const name of ["name", "labels", ...AGENT_OPTION_KEYS]) {
    const value = field(req, name);
    if (value !== "") body[name] = value;
  }
  // A fingerprint typed before choosing "trust the first key" is not meant: the choice wins.
  const fingerprint = field(req, "fingerprint");
  if (fingerprint !== "" && body.acceptNew !== true) body.fingerprint = fingerprint;
  return body;
}

/** The private key and its passphrase; the passphrase is taken as typed (blanks may belong to it). */
export function identityBodyFromForm(req: Request): Record<string, unknown> {
  const body: Record<string, unknown> = { identity: field(req, "identity") };
  const passphrase = rawField(req, "passphrase");
  if (passphrase !== "") body.passphrase = passphrase;
  return body;
}
