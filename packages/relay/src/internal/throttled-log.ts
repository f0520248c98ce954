import type { LogLevel, RelayLogger } from '../logger.js';

/** Default: one line per kind of event every 10 s. */
export const DEFAULT_LOG_THROTTLE_MS = 10_000;

/**
 * Logs repeated events (auth failures, a store that is down) at most once per interval per kind,
 * with the count of the ones left out since the previous line (`suppressed`). Kinds come from a
 * small fixed set (an error code and a transport), so the table stays a handful of entries.
 */
export class ThrottledLog {
  private readonly lastLine = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: RelayLogger,
    private readonly intervalMs = DEFAULT_LOG_THROTTLE_MS,
  ) {}

  /**
   * Logs `message` with `fields` unless a line of the same `kind` went out less than the interval ago.
   * @returns true when the line was written.
   */
  write(level: Exclude<LogLevel, 'silent'>, kind: string, fields: Record<string, unknown>, message: string): boolean {
    const now = Date.now();
    const last = this.lastLine.get(kind);
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.suppressed++;
      return false;
    }
    const suppressed = last?.suppressed ?? 0;
    this.lastLine.set(kind, { at: now, suppressed: 0 });
    this.log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
    return true;
  }
}
