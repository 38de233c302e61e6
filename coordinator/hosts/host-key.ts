import { createHash } from "node:crypto";

/** A server's host key as presented during the SSH handshake. */
export interface PresentedKey {
  /** e.g. ssh-ed25519 */
  type: string;
  /** `SHA256:...` as OpenSSH prints it (unpadded base64). */
  fingerprint: string;
}

/** Type and fingerprint of a raw SSH public key blob (string type, then key data). */
export function describeHostKey(blob: Buffer): PresentedKey {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = length > 0 && length < 64 ? blob.subarray(4, 4 + length).toString("latin1") : "unknown";
  const digest = createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
  return { type, fingerprint: `SHA256:${digest}` };
}

export type HostKeyVerdict =
  | { kind: "known" }
  | { kind: "expected" }
  | { kind: "accept-new" }
  | { kind: "unknown"; message: string }
  | { kind: "changed"; message: string };

/**
 * OpenSSH's rules, with the farm's own known-hosts store: the recorded key passes; a first key
 * passes if it is the one the admin named (--fingerprint) or the admin said --accept-new; a key
 * other than the recorded one never passes, whatever the flags.
 */
export function judgeHostKey(input: {
  presented: PresentedKey;
  recorded: PresentedKey | null;
  expectedFingerprint: string | null;
  acceptNew: boolean;
  where: string;
}): HostKeyVerdict {
  const { presented, recorded, expectedFingerprint, where } = input;
  if (recorded) {
    if (recorded.fingerprint === presented.fingerprint) return { kind: "known" };
    return {
      kind: "changed",
      message:
        `WARNING: THE HOST KEY OF ${where} HAS CHANGED. It was ${recorded.type} ${recorded.fingerprint}, ` +
        `now ${presented.type} ${presented.fingerprint}. Someone could be intercepting the connection, or the ` +
        "host was reinstalled. Nothing was run on it. If the change is expected, remove the host " +
        "(memfarm hosts remove) and add it again with the new fingerprint.",
    };
  }
  if (expectedFingerprint !== null) {
    if (expectedFingerprint === presented.fingerprint) return { kind: "expected" };
    return {
      kind: "changed",
      message: `the host key of ${where} is ${presented.type} ${presented.fingerprint}, not the ${expectedFingerprint} given with --fingerprint; nothing was run on it`,
    };
  }
  if (input.acceptNew) return { kind: "accept-new" };
  return {
    kind: "unknown",
    message:
      `first contact with ${where}: its host key is ${presented.type} ${presented.fingerprint}. ` +
      `Check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_${presented.type.replace(/^ssh-/, "")}_key.pub), ` +
      `then run again with --fingerprint ${presented.fingerprint} (or --accept-new to trust it as is)`,
  };
}
