// A client token that lives one second, for tests of expiry. JWT times are whole seconds, so a
// token minted late in a second with `expiresIn: 1` expires a few milliseconds later, possibly
// before the test has used it: this one is minted just after a second begins, so it is valid for
// ~990 ms, and `expired()` waits until it is past its expiry.
import { setTimeout as sleep } from 'node:timers/promises';
import { mintClientToken } from '@ss/core';

export interface ShortLivedToken {
  readonly token: string;
  /** Resolves 20 ms after the token's expiry. */
  expired(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const { token, expired } = await oneSecondToken({ apiKey, streamIds: ['a'] })
 * await connect(token) // valid
 * await expired()      // now it is not
 * ```
 */
export async function oneSecondToken(options: { apiKey: string; streamIds: string[] }): Promise<ShortLivedToken> {
  await sleep(1_005 - (Date.now() % 1_000));
  const token = await mintClientToken({ ...options, expiresIn: 1 });
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
  return { token, expired: () => sleep(Math.max(0, exp * 1_000 + 20 - Date.now())) };
}
