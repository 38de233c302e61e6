import { readFileSync } from "node:fs";
import { type AgentOptions, compileAgentConfig } from "../agent/config.ts";
import { AgentDaemon } from "../agent/daemon.ts";
import { silentLogger } from "../protocol/logger.ts";

/**
 * A few agents in a process of their own, for the benchmarks that would otherwise hold the whole
 * farm in one Node process: in a farm each agent is its own process on its own host, and what one
 * agent does (a spawn blocks its thread for milliseconds) holds up only itself.
 *
 *   node dist/bench/agent-group.js <file: a JSON list of agent options>
 *
 * Prints "ready" once every agent has started; stops them (as SIGTERM would one agent) and exits
 * when its stdin closes, so a benchmark that dies leaves no agent behind.
 */
const file = process.argv[2];
if (!file) throw new Error("usage: agent-group.js <file: a JSON list of agent options>");
const options = JSON.parse(readFileSync(file, "utf8")) as AgentOptions[];
const agents = options.map((option) => new AgentDaemon(compileAgentConfig(option), silentLogger));
let stopping: Promise<void> | null = null;
const stop = () => {
  stopping ??= Promise.all(agents.map((agent) => agent.stop())).then(() => process.exit(0));
  return stopping;
};
process.stdin.on("end", () => void stop());
process.stdin.on("close", () => void stop());
process.stdin.resume();
for (const agent of agents) await agent.start();
process.stdout.write("ready\n");
