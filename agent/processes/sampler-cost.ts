/**
 * The CPU time this agent process has spent sampling job trees, summed over every sampler: the
 * sampler's own cost, which the coordinator exposes per agent (memfarm_agent_sampler_cpu_seconds_total).
 * A sample pass is synchronous, so process.cpuUsage() around it measures it and nothing else.
 */
let samplerCpuMicros = 0;

export function timeSamplePass(pass: () => void): void {
  const before = process.cpuUsage();
  try {
    pass();
  } finally {
    const spent = process.cpuUsage(before);
    samplerCpuMicros += spent.user + spent.system;
  }
}

export function samplerCpuMicrosSoFar(): number {
  return samplerCpuMicros;
}
