import { quoted } from "../protocol/errors.ts";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../protocol/logger.ts";
import { CliError } from "./client.ts";
import type { CommandContext } from "./context.ts";
import { ExitCode } from "./exit-codes.ts";

/**
 * Holds SIGINT and SIGTERM while a daemon starts. Without it Node's default exits at once, and a
 * signal between the coordinator starting its nats-server and runUntilSignal left that server
 * running, orphaned. runUntilSignal takes the held signal over and stops as soon as it can.
 */
export class StartingSignals {
  private held: NodeJS.Signals | null = null;
  private readonly hold = (signal: NodeJS.Signals) => {
    if (this.held === null) this.context.stderr(`${signal}: stopping as soon as the start is done\n`);
    this.held = signal;
  };

  constructor(private readonly context: CommandContext) {
    process.on("SIGINT", this.hold);
    process.on("SIGTERM", this.hold);
  }

  /** Stops holding; the signal that came meanwhile, if one did. */
  release(): NodeJS.Signals | null {
    process.off("SIGINT", this.hold);
    process.off("SIGTERM", this.hold);
    return this.held;
  }
}

/**
 * Runs until SIGINT or SIGTERM, then stops `stop` in order. A second signal
 * forces the exit (after `force` kills what must not outlive us).
 * `firstSignalDoes` says what the first signal does, for the person who sent it.
 */
export function runUntilSignal(
  context: CommandContext,
  stop: () => Promise<void>,
  force: () => void,
  firstSignalDoes = "stopping",
  starting: StartingSignals | null = null,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        context.stderr(`${signal} again: forcing exit\n`);
        force();
        process.exit(130);
      }
      stopping = true;
      context.stderr(`${signal}: ${firstSignalDoes} (press Ctrl-C or send ${signal} again to force)\n`);
      stop().then(
        () => resolve(ExitCode.ok),
        (thrown: unknown) => {
          context.stderr(`error while stopping: ${(thrown as Error).message}\n`);
          resolve(ExitCode.error);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const held = starting?.release() ?? null;
    if (held !== null) onSignal(held);
  });
}

/** What an agent does with running jobs on the first signal, in words. */
export function drainMessage(drainTimeoutMs: number): string {
  return drainTimeoutMs === 0
    ? "stopping; running jobs are handed back and run again later"
    : `draining: running jobs may finish for up to ${drainTimeoutMs / 1000} s, then they are handed back`;
}

/**
 * The long-running commands' log (stderr, which systemd sends to the journal): log.level (--log-level,
 * MEMFARM_LOG_LEVEL: debug, info, warn, error; default info) and log.format (--log-format,
 * MEMFARM_LOG_FORMAT: text, or json for one JSON object per line with time, level, msg and the
 * context fields: job, attempt, agent, requestId, ...), as cli/settings/ resolved them.
 */
export function loggerFor(log: {
  values: { level?: string; format?: string };
  names: { level?: string; format?: string };
}) {
  const level = oneOf<LogLevel>(log.values.level, LOG_LEVELS, log.names.level ?? "--log-level") ?? "info";
  const format =
    oneOf<LogFormat>(log.values.format, LOG_FORMATS, log.names.format ?? "--log-format") ?? "text";
  return createLogger({ level, format });
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  name: string,
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${name} must be one of ${allowed.join(", ")}, not ${quoted(value)}`, ExitCode.usage);
}
