import { StreamstraightError } from '@ss/core/protocol';

/**
 * Every bound the relay keeps on what one client may cost it. Each has a safe default, a CLI
 * flag, a metric and a typed refusal; the relay README's "Limits" table lists them.
 */
export interface RelayLimits {
  /** Streams one reader connection may read at once. Past it: `QUOTA_EXCEEDED`. */
  maxSubscriptionsPerConnection: number;
}

/** The defaults of {@link RelayLimits}. */
export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxSubscriptionsPerConnection: 100,
});

/**
 * Fills the limits a caller left out with the defaults and checks the ones given.
 * @param limits - the caller's limits, any subset.
 * @returns every limit.
 */
export function resolveLimits(limits: Partial<RelayLimits> = {}): RelayLimits {
  const resolved = { ...DEFAULT_RELAY_LIMITS };
  for (const [name, value] of Object.entries(limits) as Array<[keyof RelayLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_RELAY_LIMITS)) throw new StreamstraightError('BAD_REQUEST', `Unknown relay limit "${name}".`);
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new StreamstraightError('BAD_REQUEST', `The relay limit ${name} must be a number >= 0, got ${String(value)}.`);
    }
    resolved[name] = value;
  }
  return resolved;
}
