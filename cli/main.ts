#!/usr/bin/env node
import { MemfarmError, ValidationError } from "../protocol/errors.ts";
import { CliError } from "./client.ts";
import { agentsCommand } from "./commands/agent-commands.ts";
import { agentCommand } from "./commands/agent-daemon-command.ts";
import { coordinatorCommand, upCommand } from "./commands/farm-commands.ts";
import { hostsCommand } from "./commands/host-commands.ts";
import {
  cancelCommand,
  jobsCommand,
  logsCommand,
  retryCommand,
  showCommand,
  submitCommand,
} from "./commands/job-commands.ts";
import { regressionsCommand } from "./commands/regression-commands.ts";
import { tokensCommand } from "./commands/token-commands.ts";
import { watchCommand } from "./commands/watch-commands.ts";
import type { CommandContext } from "./context.ts";
import { ExitCode } from "./exit-codes.ts";
import { COMMAND_HELP, MAIN_HELP } from "./help.ts";

const COMMANDS: Record<string, (context: CommandContext) => Promise<number>> = {
  up: upCommand,
  coordinator: coordinatorCommand,
  agent: agentCommand,
  submit: submitCommand,
  jobs: jobsCommand,
  show: showCommand,
  logs: logsCommand,
  cancel: cancelCommand,
  retry: retryCommand,
  hosts: hostsCommand,
  agents: agentsCommand,
  tokens: tokensCommand,
  watch: watchCommand,
  regressions: regressionsCommand,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...args] = argv;
  const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${MAIN_HELP}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
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
