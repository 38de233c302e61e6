import { realpathSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { ProbePythonReply } from "../../protocol/messages.ts";
import { probePython } from "./python-check.ts";

/** Enough for every interpreter one host tests with; the oldest goes first past it. */
const MAX_ENTRIES = 64;

type Probe = (python: string) => Promise<ProbePythonReply>;

/**
 * probePython, remembered per interpreter file: the probe starts the
 * interpreter and imports test.libregrtest (tens of milliseconds, more on a
 * busy host) and used to run before every job. An answer is reused while the
 * file the path resolves to is the same file, unchanged: same (device, inode,
 * size, mtime, ctime). A rebuild replaces or rewrites it and so is probed again. Only
 * a usable answer is kept: a broken interpreter is probed again at its next
 * job, so one that was fixed is seen at once.
 *
 * Only the file itself is watched: an interpreter that is a script running
 * another one (or whose test package changes under it) keeps its answer until
 * the script changes, or the agent restarts.
 */
export class ProbeCache {
  private readonly usable = new Map<string, ProbePythonReply>();
  private readonly inFlight = new Map<string, Promise<ProbePythonReply>>();

  constructor(private readonly probe: Probe = probePython) {}

  /** probePython's answer for `python`, from the cache while its file is unchanged. */
  async check(python: string): Promise<ProbePythonReply> {
    const key = fileKey(python);
    // Not absolute, missing, unreadable: the probe itself says why, in its words.
    if (key === null) return this.probe(python);
    const known = this.usable.get(key);
    if (known !== undefined) return known;
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const probing = this.probeAndKeep(python, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, probing);
    return probing;
  }

  private async probeAndKeep(python: string, key: string): Promise<ProbePythonReply> {
    const reply = await this.probe(python);
    // A file replaced while it was probed: the answer may be the old file's, so it is not kept.
    if (reply.usable && fileKey(python) === key) {
      if (this.usable.size >= MAX_ENTRIES) this.usable.delete(this.usable.keys().next().value as string);
      this.usable.set(key, reply);
    }
    return reply;
  }
}

/**
 * The resolved path and the identity of the file it names; null when there is
 * no such file. Synchronous on purpose: a few microseconds for a local file,
 * where the asynchronous calls wait their turn in the thread pool and the
 * event loop, which took 2-20 ms of a job's start on a busy agent.
 */
function fileKey(python: string): string | null {
  if (!isAbsolute(python)) return null;
  try {
    const resolved = realpathSync(python);
    const info = statSync(resolved, { bigint: true });
    if (!info.isFile()) return null;
    return [resolved, info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join("\0");
  } catch {
    return null;
  }
}
