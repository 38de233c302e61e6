import { MemfarmError } from "../../protocol/errors.ts";

/** The steps of a host operation, in the order `hosts add` runs them. */
export const HOST_STEPS = [
  "validate",
  "connect",
  "facts",
  "drain",
  "stop",
  "install",
  "start",
  "register",
  "uninstall",
  "revoke",
] as const;
export type HostStep = (typeof HOST_STEPS)[number];

/** A step that failed: the message says why and what to fix; the host's log and page show both. */
export class StepError extends MemfarmError {
  constructor(
    readonly step: HostStep,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("host_step_failed", message, options);
  }
}
