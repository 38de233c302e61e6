import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentConfig } from "../../../agent/config.ts";
import { agentConfigFrom } from "../../../cli/commands/agent-daemon-command.ts";
import { coordinatorConfigFrom } from "../../../cli/commands/farm-commands.ts";
import { loadSettings } from "../../../cli/settings/resolve.ts";
import type { CoordinatorConfig } from "../../../coordinator/config.ts";

/** A folder for a test's config files, removed when the test process exits. */
export function configDir(): { dir: string; write: (name: string, text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-settings-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

type Flags = Record<string, string | boolean | undefined>;

/** The coordinator's config as `memfarm coordinator` compiles it from these flags, variables and file. */
export function coordinatorFrom(flags: Flags, env: NodeJS.ProcessEnv = {}): CoordinatorConfig {
  return coordinatorConfigFrom(loadSettings("coordinator", flags, env), env);
}

/** The agent's config as `memfarm agent` compiles it. */
export function agentFrom(flags: Flags, env: NodeJS.ProcessEnv = {}): AgentConfig {
  return agentConfigFrom(loadSettings("agent", flags, env));
}
