import { AsyncLocalStorage } from "node:async_hooks";

/**
 * A small structured logger, passed in and scoped with `child({ agent, job })`.
 * Core code never writes to the console directly; the process edge picks the sink
 * and the format: text lines for a person, JSON lines for journald and log shippers.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Fields every line logged within a piece of work carries, whichever logger logs it: the HTTP
 * layer runs each request in `withLogContext({ requestId })`, so a store warning or a scheduler
 * line caused by that request names it without the request's logger being passed down.
 */
const logContext = new AsyncLocalStorage<LogFields>();

export function withLogContext<T>(fields: LogFields, work: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, work);
}

export function createLogger(
  options: { level?: LogLevel; format?: LogFormat; write?: (line: string) => void; fields?: LogFields } = {},
): Logger {
  const minimum = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  const format = options.format === "json" ? jsonLine : textLine;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < minimum) return;
    write(format(new Date().toISOString(), level, message, { ...logContext.getStore(), ...base, ...fields }));
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

function textLine(time: string, level: LogLevel, message: string, fields: LogFields): string {
  const extras = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(plain(value))}`)
    .join(" ");
  return `${time} ${level.padEnd(5)} ${message}${extras ? ` ${extras}` : ""}`;
}

/** One JSON object per line; time, level and msg come first and no field can replace them. */
function jsonLine(time: string, level: LogLevel, message: string, fields: LogFields): string {
  const record: LogFields = { time, level, msg: message };
  for (const [key, value] of Object.entries(fields)) if (!(key in record)) record[key] = plain(value);
  return JSON.stringify(record);
}

/** An Error says its message in a log line (JSON.stringify would make it `{}`). */
function plain(value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

/** A logger that drops everything, for tests that assert on behaviour rather than logs. */
export const silentLogger: Logger = createLogger({ write: () => undefined });
