import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";

const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");

/** A real `memfarm coordinator` process on `dataDir` (its own NATS, a free port); resolves with its URL. */
export async function startCoordinator(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, "coordinator", "--port", "0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
    // Its profile goes inside its data dir, not into the home of whoever runs the bench.
    env: { ...process.env, MEMFARM_LOG_LEVEL: "warn", XDG_CONFIG_HOME: join(dataDir, "cli-config") },
  });
  let output = "";
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const match = /Dashboard:\s+(http:\/\/\S+?)\/\n/.exec(output);
    if (match?.[1]) return { child, url: match[1] };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`coordinator did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Stops a coordinator from startCoordinator as Ctrl-C would, and waits for it to exit. */
export async function stopCoordinator(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  await exited;
}
