/**
 * The relay's structured logger: pino's interface (`log.info({ streamId }, 'stream opened')`), so a
 * team can pass its own pino logger (or any logger with the same methods) as `createRelay({ log })`.
 * Without one, the relay makes its own with {@link createLogger}: JSON lines, one per event, each
 * with a `level`; readable lines instead when the output is a terminal.
 */
import { type DestinationStream, pino } from 'pino';

/** Log levels, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino-style log method: an object of fields and a message, or a message alone. */
export interface LogMethod {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * What the relay needs from a logger: pino's level methods and `child`. A pino logger fits as it is.
 */
export interface RelayLogger {
  fatal: LogMethod;
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  trace: LogMethod;
  /** A logger that adds `bindings` to every line (the relay uses `{ component }`). */
  child(bindings: Record<string, unknown>): RelayLogger;
}

/**
 * The older form of the `log` option: a function given unexpected errors. Still accepted; it
 * receives warnings and errors only.
 */
export type LogFunction = (message: string, error?: unknown) => void;

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** The least severe level written. Default `info`. */
  level?: LogLevel;
  /** `json` (one JSON object per line) or `pretty` (for a terminal). Default: `pretty` when stdout is a TTY, else `json`. */
  format?: 'json' | 'pretty';
  /** Where lines go. Default: stdout. */
  destination?: { write(line: string): unknown };
}

/**
 * Tells whether `value` names a log level.
 * @param value - for example the `--log-level` flag.
 * @returns true for one of {@link LOG_LEVELS}.
 */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** Turns one pino JSON line into `12:00:01.123 INFO  [component] message key=value …`. */
export function formatPrettyLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, component, pid: _pid, hostname: _hostname, err, ...fields } = record;
  const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const parts = [when, String(level).toUpperCase().padEnd(5)];
  if (component !== undefined) parts.push(`[${String(component)}]`);
  if (msg !== undefined) parts.push(String(msg));
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  let text = parts.join(' ');
  if (err && typeof err === 'object') {
    const { message, stack } = err as { message?: string; stack?: string };
    text += `\n  ${stack ?? message ?? JSON.stringify(err)}`;
  }
  return `${text}\n`;
}

/**
 * Creates the relay's default logger (pino).
 * @param options - level, format and destination.
 * @returns a pino logger.
 * @example
 * ```ts
 * const relay = createRelay({ apiKeys: [process.env.SS_API_KEY!], log: createLogger({ level: 'debug' }) })
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): RelayLogger {
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const output = options.destination ?? process.stdout;
  const destination: DestinationStream =
    format === 'pretty' ? { write: (line: string) => void output.write(formatPrettyLine(line)) } : { write: (line: string) => void output.write(line) };
  // Levels as words ("level":"warn"), so a line reads without pino's number table.
  return pino({ level: options.level ?? 'info', formatters: { level: (label) => ({ level: label }) } }, destination);
}

const ignore = () => {};

/** A logger that drops everything. */
export const silentLogger: RelayLogger = {
  fatal: ignore,
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  trace: ignore,
  child: () => silentLogger,
};

/**
 * The relay's logger from its `log` option: a logger as it is, the older function form adapted
 * (warnings and errors only), none at all a new default logger.
 * @param log - the option's value.
 * @param level - the default logger's level.
 * @returns a logger.
 */
export function toRelayLogger(log: RelayLogger | LogFunction | undefined, level?: LogLevel): RelayLogger {
  if (log === undefined) return createLogger({ level });
  if (typeof log !== 'function') return log;
  const forward =
    (method: LogFunction) =>
    (fieldsOrMessage: object | string, message?: string): void => {
      if (typeof fieldsOrMessage === 'string') {
        method(fieldsOrMessage);
        return;
      }
      const { err, ...fields } = fieldsOrMessage as { err?: unknown };
      const details = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      method(`${message ?? ''}${details}`, err);
    };
  const adapted: RelayLogger = {
    fatal: forward(log),
    error: forward(log),
    warn: forward(log),
    info: ignore,
    debug: ignore,
    trace: ignore,
    child: () => adapted,
  };
  return adapted;
}
