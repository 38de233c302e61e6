import { type ChildProcess, spawn } from "node:child_process";

/**
 * A Python child that allocates `mib` MiB (touching every page, so it is
 * resident), holds it for `holdSeconds`, frees it, and lingers `afterSeconds`.
 * It prints "allocated" once the memory is resident.
 */
export function allocator(options: { mib: number; holdSeconds: number; afterSeconds: number }): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  allocated: Promise<void>;
} {
  const script = [
    "import sys, time",
    `block = bytearray(${options.mib} * 1024 * 1024)`,
    "for i in range(0, len(block), 4096): block[i] = 1",
    "print('allocated', flush=True)",
    `time.sleep(${options.holdSeconds})`,
    "del block",
    `time.sleep(${options.afterSeconds})`,
  ].join("\n");
  const child = spawn("/usr/bin/python3", ["-c", script], {
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const allocated = new Promise<void>((resolve) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("allocated")) resolve();
    });
    void exited.then(() => resolve());
  });
  return { child, exited, allocated };
}

export const MiB = 1024 * 1024;
