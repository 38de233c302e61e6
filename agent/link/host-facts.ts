import { availableParallelism, hostname, totalmem } from "node:os";
import type { HostFacts } from "../../protocol/messages.ts";
import type { DailyWindow } from "../../protocol/windows.ts";

/** Node's arch names mapped to the kernel's (`uname -m`), which is what admins read and label by. */
const KERNEL_ARCH: Record<string, string> = {
  arm64: "aarch64",
  x64: "x86_64",
  ia32: "i686",
  ppc64: "ppc64le",
};

export function kernelArch(nodeArch: string = process.arch): string {
  return KERNEL_ARCH[nodeArch] ?? nodeArch;
}

/** This machine's facts; `memoryBytes` may be overridden to offer less than the host has. */
export function readHostFacts(options: {
  memoryBytes?: number;
  labels: Record<string, string>;
  blackouts: DailyWindow[];
}): HostFacts {
  const arch = kernelArch();
  return {
    hostname: hostname(),
    arch,
    cores: availableParallelism(),
    memoryBytes: options.memoryBytes ?? totalmem(),
    labels: { arch, ...options.labels },
    blackouts: options.blackouts,
  };
}
