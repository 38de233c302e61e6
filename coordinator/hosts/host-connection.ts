import type { HostsStore } from "../store/hosts-store.ts";
import { judgeHostKey, type PresentedKey } from "./host-key.ts";
import type { HostProgress } from "./host-progress.ts";
import { type SshIdentity, SshSession } from "./ssh-session.ts";
import type { SshTarget } from "./ssh-target.ts";
import { formatSshTarget } from "./ssh-target.ts";

export interface HostKeyPolicy {
  acceptNew: boolean;
  /** `SHA256:...`, the key the admin expects on first contact. */
  fingerprint: string | null;
}

/**
 * Connects and verifies the host key against the farm's known-hosts store before authenticating;
 * a first key is pinned once the connection is up (so a refused identity pins nothing).
 */
export async function connectVerified(
  hosts: HostsStore,
  progress: HostProgress,
  target: SshTarget,
  identity: SshIdentity,
  policy: HostKeyPolicy,
): Promise<SshSession> {
  const where = formatSshTarget(target);
  progress.enter("connect", `connecting to ${where}`);
  const recorded = hosts.pinnedKey(target.address, target.port);
  let presented: PresentedKey | null = null;
  let verdict: ReturnType<typeof judgeHostKey> | null = null;
  const session = await SshSession.connect(target, identity, (key) => {
    presented = key;
    verdict = judgeHostKey({
      presented: key,
      recorded,
      expectedFingerprint: policy.fingerprint,
      acceptNew: policy.acceptNew,
      where,
    });
    return verdict.kind === "unknown" || verdict.kind === "changed" ? verdict.message : null;
  });
  const key = presented as PresentedKey | null;
  const kind = (verdict as ReturnType<typeof judgeHostKey> | null)?.kind;
  if (key && !recorded) hosts.pinKey(target.address, target.port, key);
  const how =
    kind === "known"
      ? "as recorded"
      : kind === "expected"
        ? "as given with --fingerprint; recorded"
        : "new, recorded (--accept-new)";
  progress.info(`connected as ${target.user}; host key ${key?.type} ${key?.fingerprint} (${how})`);
  return session;
}
