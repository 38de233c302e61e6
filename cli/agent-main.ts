#!/usr/bin/env node
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { extname } from "node:path";
import { MemfarmError } from "../protocol/errors.ts";
import {
  type InstalledAgentConfig,
  type InstalledAgentOptions,
  parseInstalledAgentConfig,
} from "../protocol/installed-agent-config.ts";
import { agentCommand } from "./commands/agent-daemon-command.ts";
import { ExitCode } from "./exit-codes.ts";
import { SETTING_SECTIONS } from "./settings/config-file.ts";
import { isTable } from "./settings/kinds.ts";

/**
 * The entry point of the agent bundle that `memfarm hosts add` uploads (dist/agent-bundle/): just
 * `memfarm agent`, and nothing of the coordinator, so it has no native module and runs on any arch.
 * `--config FILE` first reads the options from the file the provisioner wrote; other arguments are
 * `memfarm agent`'s own, and so is a `--config FILE` that is a settings file (cli/settings/).
 */
function argsFrom(config: InstalledAgentConfig): string[] {
  const labels = Object.entries(config.labels).map(([key, value]) => `${key}=${value}`);
  return [
    "--nats",
    config.nats.join(","),
    "--creds",
    config.creds,
    "--name",
    config.name,
    "--work-dir",
    config.workDir,
    ...(labels.length > 0 ? ["--labels", labels.join(",")] : []),
    ...optionArgs(config.options ?? {}),
  ];
}

function optionArgs(options: InstalledAgentOptions): string[] {
  const args: string[] = [];
  if (options.memory !== undefined) args.push("--memory", options.memory);
  if (options.noNewJobs !== undefined) args.push("--no-new-jobs", options.noNewJobs);
  if (options.drainTimeout !== undefined) args.push("--drain-timeout", options.drainTimeout);
  if (options.buildCacheSize !== undefined) args.push("--build-cache-size", options.buildCacheSize);
  return args;
}

/**
 * Whether a .json FILE is the provisioner's agent.json rather than a settings file: one without the
 * settings' sections. A damaged agent.json counts as one, so that its error says how to rewrite it.
 */
function isInstalledConfig(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return !isTable(value) || !Object.keys(value).some((key) => SETTING_SECTIONS.includes(key));
  } catch {
    return true;
  }
}

async function run(argv: string[]): Promise<number> {
  let args = argv;
  const file = argv[0] === "--config" ? argv[1] : undefined;
  const text =
    file !== undefined && extname(file).toLowerCase() === ".json" ? readFileSync(file, "utf8") : null;
  if (file !== undefined && text !== null && isInstalledConfig(text)) {
    const config = parseInstalledAgentConfig(text, file);
    args = [...argsFrom(config), ...argv.slice(2)];
    // A stop over SSH kills exactly this pid (checked against its command line), never by name.
    writeFileSync(config.pidFile, `${process.pid}\n`);
    process.once("exit", () => rmSync(config.pidFile, { force: true }));
  }
  return agentCommand({
    args,
    env: process.env,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTty: false,
    columns: () => 80,
  });
}

run(process.argv.slice(2)).then(
  (code) => process.stdout.write("", () => process.exit(code)),
  (thrown: unknown) => {
    const known = thrown instanceof MemfarmError;
    process.stderr.write(`memfarm agent: ${known ? thrown.message : ((thrown as Error).stack ?? thrown)}\n`);
    process.exitCode = ExitCode.error;
  },
);
