#!/usr/bin/env node
import { MemfarmError, ValidationError } from "../protocol/errors.ts";
import { CliError } from "./client.ts";
import type { CommandContext } from "./context.ts";
import { ExitCode } from "./exit-codes.ts";
import { COMMAND_HELP, MAIN_HELP } from "./help.ts";

type Command = (context: CommandContext) => Promise<number>;

/**
 * Each command's module, loaded when that command runs: the farm commands pull in the whole
 * coordinator (express, octokit, ssh2, better-sqlite3) and the agent, which `memfarm jobs` and
 * `memfarm --help` must not wait for (test/cli/cli-startup.test.ts checks; bench/cli-startup.ts
 * measures).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import("./commands/farm-commands.ts")).upCommand,
  coordinator: async () => (await import("./commands/farm-commands.ts")).coordinatorCommand,
  agent: async () => (await import("./commands/agent-daemon-command.ts")).agentCommand,
  submit: async () => (await import("./commands/job-commands.ts")).submitCommand,
  jobs: async () => (await import("./commands/job-commands.ts")).jobsCommand,
  show: async () => (await import("./commands/job-commands.ts")).showCommand,
  logs: async () => (await import("./commands/job-commands.ts")).logsCommand,
  cancel: async () => (await import("./commands/job-commands.ts")).cancelCommand,
  retry: async () => (await import("./commands/job-commands.ts")).retryCommand,
  tests: async () => (await import("./commands/compare-commands.ts")).testsCommand,
  compare: async () => (await import("./commands/compare-commands.ts")).compareCommand,
  hosts: async () => (await import("./commands/host-commands.ts")).hostsCommand,
  agents: async () => (await import("./commands/agent-commands.ts")).agentsCommand,
  tokens: async () => (await import("./commands/token-commands.ts")).tokensCommand,
  watch: async () => (await import("./commands/watch-commands.ts")).watchCommand,
  regressions: async () => (await import("./commands/regression-commands.ts")).regressionsCommand,
  login: async () => (await import("./commands/profile-commands.ts")).loginCommand,
  logout: async () => (await import("./commands/profile-commands.ts")).logoutCommand,
  profiles: async () => (await import("./commands/profile-commands.ts")).profilesCommand,
  backup: async () => (await import("./commands/backup-commands.ts")).backupCommand,
  restore: async () => (await import("./commands/backup-commands.ts")).restoreCommand,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...args] = argv;
  const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${MAIN_HELP}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`memfarm: unknown command "${name}"\n\n${MAIN_HELP}\n`);
    return ExitCode.usage;
  }
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${COMMAND_HELP[name] ?? MAIN_HELP}\n`);
    return ExitCode.ok;
  }
  const context: CommandContext = {
    args,
    env,
    stdout: write(process.stdout),
    stderr: write(process.stderr),
    isTty: process.stdout.isTTY === true,
    // A pseudo-terminal with no size (script(1) without a terminal) reports 0 columns.
    columns: () => process.stdout.columns || 80,
  };
  try {
    const command = await load();
    return await command(context);
  } catch (thrown) {
    if (thrown instanceof CliError) {
      process.stderr.write(`memfarm ${name}: ${thrown.message}\n`);
      return thrown.exitCode;
    }
    if (thrown instanceof ValidationError) {
      process.stderr.write(`memfarm ${name}: ${thrown.message}\n`);
      return ExitCode.usage;
    }
    if (thrown instanceof MemfarmError) {
      process.stderr.write(`memfarm ${name}: ${thrown.message}\n`);
      return ExitCode.error;
    }
    process.stderr.write(`memfarm ${name}: ${(thrown as Error).stack ?? String(thrown)}\n`);
    return ExitCode.error;
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    // Exit once output is flushed: a stopped farm must not linger on a stray handle.
    process.stdout.write("", () => process.exit(code));
  },
  (thrown: unknown) => {
    process.stderr.write(`memfarm: ${String(thrown)}\n`);
    process.exitCode = ExitCode.error;
  },
);
