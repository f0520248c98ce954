import { canCancelStream } from '@ss/core';
import { StreamstraightError, assertStreamId } from '@ss/core/protocol';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { type ApiKeyCheck, bearerToken } from '../api-keys.js';
import type { ProducerHandle } from '../internal/producer-session.js';
import type { VerifiedTokens } from '../internal/verified-tokens.js';
import type { StreamStore } from '../store/stream-store.js';

/** What the cancel route needs. */
export interface CancelRouteOptions {
  store: StreamStore;
  checkApiKey: ApiKeyCheck;
  tokens: VerifiedTokens;
  /** Which Socket.IO producer holds which stream on this relay (read at request time). */
  producers: () => Map<string, ProducerHandle>;
  corsOrigin: string | ((origin: string) => string | null) | string[];
}

const looksLikeJwt = (credential: string): boolean => credential.split('.').length === 3;

/**
 * Adds `POST /v1/streams/:streamId/cancel` `{ reason? }`: what `consumer:cancel` does, over HTTP
 * (for readers over SSE). A client token with the cancel scope for the stream (or the API key) in
 * the `Authorization` header. The producer of the stream on this relay gets the cancel; without
 * one here, the stream is ended with `cancelled` in the store, which its producer sees at its
 * next write.
 * @param app - the relay's HTTP API.
 * @param options - store, credentials checks and the producers of this relay.
 */
export function addCancelRoute(app: Hono, options: CancelRouteOptions): void {
  const path = '/v1/streams/:streamId/cancel';
  app.use(path, cors({ origin: options.corsOrigin, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['Authorization', 'Content-Type'], maxAge: 600 }));
  app.post(
    path,
    bodyLimit({
      maxSize: 4096,
      onError: () => {
        throw new StreamstraightError('BAD_REQUEST', 'The cancel body is over 4096 bytes: send { "reason"?: string }.');
      },
    }),
    async (c) => {
      const streamId = assertStreamId(c.req.param('streamId'));
      const credential = bearerToken(c.req.header('authorization'));
      if (credential === undefined) throw new StreamstraightError('UNAUTHORIZED', 'Missing credentials: send "Authorization: Bearer <client token with the cancel scope>".');
      if (!(looksLikeJwt(credential) ? false : options.checkApiKey(credential))) {
        if (!looksLikeJwt(credential)) throw new StreamstraightError('UNAUTHORIZED', 'Invalid credentials: the value is neither a configured API key nor a client token.');
        const claims = await options.tokens.verify(credential);
        if (!canCancelStream(claims, streamId)) {
          throw new StreamstraightError('FORBIDDEN', `This client token does not allow cancelling stream ${JSON.stringify(streamId)}. Mint one with cancel: true (or naming it).`);
        }
      }
      const text = await c.req.text();
      let reason = 'cancelled by a reader';
      if (text !== '') {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new StreamstraightError('BAD_REQUEST', 'Malformed cancel body: expected JSON { "reason"?: string } (or no body).');
        }
        const given = (body as { reason?: unknown } | null)?.reason;
        if (given !== undefined && typeof given !== 'string') throw new StreamstraightError('BAD_REQUEST', 'Malformed cancel body: "reason" must be a string.');
        if (typeof given === 'string') reason = given;
      }
      const producer = options.producers().get(streamId);
      if (producer) await producer.cancel(streamId, reason);
      else {
        const info = await options.store.info(streamId);
        if (!info) throw new StreamstraightError('STREAM_NOT_FOUND', `Stream ${JSON.stringify(streamId)} does not exist.`);
        if (info.status === 'open') await options.store.end(streamId, null, 'cancelled');
      }
      c.header('Cache-Control', 'no-store');
      return c.json({ ok: true });
    },
  );
}
