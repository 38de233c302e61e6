/** How a full disk shows in a test's or a build's output: Python's errno 28, the C library's text. */
const NO_SPACE = /No space left on device|\[Errno 28\]|ENOSPC/;

export function saysNoSpace(text: string): boolean {
  return NO_SPACE.test(text);
}

/** The reason a job ends `error` when its host's disk filled, naming the directory to free. */
export function noSpaceReason(workDir: string, what: string): string {
  return `no space left on the agent's disk (its work dir ${workDir}): ${what}; free space on that host and retry the job`;
}
