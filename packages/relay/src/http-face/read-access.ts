import { canReadStream } from '@ss/core';
import { StreamstraightError } from '@ss/core/protocol';
import { type ApiKeyCheck, bearerToken } from '../api-keys.js';
import type { VerifiedTokens } from '../internal/verified-tokens.js';

/** What a read request presents. */
export interface ReadCredentials {
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** The `?token=` query parameter, if any (EventSource cannot send headers). */
  queryToken: string | undefined;
}

const looksLikeJwt = (credential: string): boolean => credential.split('.').length === 3;

/**
 * Checks that a read request may read `streamId`: an API key in the `Authorization` header, or a
 * client token (header or `?token=`) whose scope covers the stream and that has not expired.
 * An API key in the URL is refused: URLs end up in access logs and browser history.
 *
 * @throws `UNAUTHORIZED` (missing, invalid or expired credentials), `FORBIDDEN` (a token for other streams).
 */
export async function authorizeRead(
  credentials: ReadCredentials,
  streamId: string,
  checks: { checkApiKey: ApiKeyCheck; tokens: VerifiedTokens },
): Promise<void> {
  const fromHeader = bearerToken(credentials.authorization);
  const credential = fromHeader ?? credentials.queryToken;
  if (credential === undefined || credential === '') {
    throw new StreamstraightError(
      'UNAUTHORIZED',
      'Missing credentials: send "Authorization: Bearer <client token>", or ?token=<client token> where headers cannot be set (EventSource).',
    );
  }
  if (!looksLikeJwt(credential)) {
    if (fromHeader !== undefined && checks.checkApiKey(credential)) return;
    if (fromHeader === undefined && checks.checkApiKey(credential)) {
      throw new StreamstraightError(
        'UNAUTHORIZED',
        'An API key is not accepted in the URL (URLs are logged): mint a client token for the reader, or send the key in the Authorization header.',
      );
    }
    throw new StreamstraightError('UNAUTHORIZED', 'Invalid credentials: the value is neither a configured API key nor a client token.');
  }
  const claims = await checks.tokens.verify(credential);
  if (!canReadStream(claims, streamId)) {
    throw new StreamstraightError(
      'FORBIDDEN',
      `This client token does not cover stream ${JSON.stringify(streamId)}: mint one whose streamIds include it.`,
    );
  }
}
