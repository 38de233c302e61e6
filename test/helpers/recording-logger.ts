import type { LogFields, Logger, LogLevel } from "../../protocol/logger.ts";

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** A Logger that keeps every line (children included) in `records`, so tests can assert on what was logged. */
export interface RecordingLogger extends Logger {
  readonly records: LogRecord[];
  /** Lines logged at `level` since `from` (an index into records). */
  since(from: number, level?: LogLevel): LogRecord[];
}

export function recordingLogger(): RecordingLogger {
  const records: LogRecord[] = [];
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
      records.push({ level, message, fields: { ...base, ...fields } });
    };
    return {
      debug: emit("debug"),
      info: emit("info"),
      warn: emit("warn"),
      error: emit("error"),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return Object.assign(make({}), {
    records,
    since: (from: number, level?: LogLevel) =>
      records.slice(from).filter((record) => level === undefined || record.level === level),
  });
}
