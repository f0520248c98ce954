import { type ClientTokenClaims, verifyClientToken } from '@ss/core';

/** How many verified tokens a relay remembers. */
const CAPACITY = 10_000;

/**
 * Remembers client tokens this relay has verified, so a reader that reconnects (a reload, a new
 * tab, a dropped network) with the same token is let in without verifying the signature again:
 * verification goes through WebCrypto, whose round trips through the thread pool are a good part
 * of a reconnect's handshake. The same string always verifies the same way against the relay's
 * fixed API keys, so only the expiry has to be checked again; failures are never remembered.
 * Readers connecting at the same moment with one token share one verification.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Promise<ClientTokenClaims>>();

  constructor(
    private readonly apiKeys: readonly string[],
    private readonly clockToleranceSeconds: number,
  ) {}

  /**
   * The claims of `token`, verified now or earlier.
   * @throws the `UNAUTHORIZED` StreamstraightError of `verifyClientToken` (expired, forged…).
   */
  async verify(token: string): Promise<ClientTokenClaims> {
    const known = this.entries.get(token);
    if (known) {
      const claims = await known;
      if (claims.expiresAt.getTime() + this.clockToleranceSeconds * 1000 > Date.now()) {
        // Most recently used last: the oldest entry is the first the map iterates.
        this.entries.delete(token);
        this.entries.set(token, known);
        return claims;
      }
      this.entries.delete(token);
    }
    const verifying = verifyClientToken(token, { apiKeys: this.apiKeys, clockToleranceSeconds: this.clockToleranceSeconds });
    this.entries.set(token, verifying);
    if (this.entries.size > CAPACITY) this.entries.delete(this.entries.keys().next().value!);
    verifying.catch(() => {
      if (this.entries.get(token) === verifying) this.entries.delete(token);
    });
    return verifying;
  }
}
