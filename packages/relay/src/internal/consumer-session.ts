import { canCancelStream, canReadStream } from '@ss/core';
import { StreamstraightError, parseConsumerCancel, parseConsumerSubscribe } from '@ss/core/protocol';
import type { StreamStore } from '../store/stream-store.js';
import type { ProducerHandle } from './producer-session.js';
import { type Reporting, replyTo, toErrorPayload } from './reply.js';
import type { ClientTokenClaims, RelaySocket } from './relay-socket.js';
import type { StreamHub } from './stream-hub.js';

/** What a consumer session needs from the relay. */
export interface ConsumerSessionContext extends Reporting {
  store: StreamStore;
  hub: StreamHub;
  producers: Map<string, ProducerHandle>;
  clockToleranceSeconds: number;
}

const CONSUMER_EVENTS = new Set(['consumer:subscribe', 'consumer:unsubscribe', 'consumer:cancel']);

function checkToken(claims: ClientTokenClaims, streamId: string, scope: 'read' | 'cancel', clockToleranceSeconds: number): void {
  if (claims.expiresAt.getTime() + clockToleranceSeconds * 1000 <= Date.now()) {
    throw new StreamstraightError('UNAUTHORIZED', 'The client token has expired. Fetch a new token and reconnect.');
  }
  if (!(scope === 'read' ? canReadStream(claims, streamId) : canCancelStream(claims, streamId))) {
    throw new StreamstraightError(
      'FORBIDDEN',
      `This client token does not allow ${scope === 'read' ? 'reading' : 'cancelling'} stream "${streamId}". Mint a token that names it.`,
    );
  }
}

/** Serves one reader connection: any number of streams, each from any `fromSeq`. */
export function startConsumerSession(socket: RelaySocket, context: ConsumerSessionContext): void {
  const identity = socket.data.identity;
  if (identity.role !== 'consumer') return;
  const { claims } = identity;
  const subscriptions = new Map<string, () => void>();

  socket.onAny((event: string) => {
    if (!CONSUMER_EVENTS.has(event)) {
      socket.emit('stream:error', {
        code: 'UNKNOWN_EVENT',
        message: `Unknown event "${event}" for a reader. Known: ${[...CONSUMER_EVENTS].join(', ')}.`,
      });
    }
  });

  socket.on('consumer:subscribe', async (payload, ack) => {
    const reply = replyTo(socket, ack);
    try {
      const request = parseConsumerSubscribe(payload);
      checkToken(claims, request.streamId, 'read', context.clockToleranceSeconds);
      const info = await context.store.info(request.streamId);
      if (!info) {
        throw new StreamstraightError('STREAM_NOT_FOUND', `Stream "${request.streamId}" does not exist (yet, or any more). Retry once its producer has started.`, {
          retryInMs: 500,
        });
      }
      // A second subscribe to the same stream replaces the first (a reader resuming after a gap).
      subscriptions.get(request.streamId)?.();
      subscriptions.delete(request.streamId);
      reply({ ok: true, info });
      if (socket.disconnected) return;
      const unsubscribe = await context.hub.subscribe(socket, request.streamId, request.fromSeq ?? 0);
      if (socket.disconnected) unsubscribe();
      else subscriptions.set(request.streamId, unsubscribe);
    } catch (error) {
      reply({ ok: false, error: toErrorPayload(error, context) });
    }
  });

  socket.on('consumer:unsubscribe', (payload) => {
    const streamId = (payload as { streamId?: unknown } | null)?.streamId;
    if (typeof streamId !== 'string') return;
    subscriptions.get(streamId)?.();
    subscriptions.delete(streamId);
  });

  socket.on('consumer:cancel', async (payload, ack) => {
    const reply = replyTo(socket, ack);
    try {
      const request = parseConsumerCancel(payload);
      checkToken(claims, request.streamId, 'cancel', context.clockToleranceSeconds);
      const producer = context.producers.get(request.streamId);
      if (producer) await producer.cancel(request.streamId, request.reason ?? 'cancelled by a reader');
      else {
        // No producer on this node: end the stream here so every reader learns it was cancelled.
        const info = await context.store.info(request.streamId);
        if (!info) throw new StreamstraightError('STREAM_NOT_FOUND', `Stream "${request.streamId}" does not exist.`);
        if (info.status === 'open') await context.store.end(request.streamId, null, 'cancelled');
      }
      reply({ ok: true });
    } catch (error) {
      reply({ ok: false, error: toErrorPayload(error, context) });
    }
  });

  socket.on('disconnect', () => {
    for (const unsubscribe of subscriptions.values()) unsubscribe();
    subscriptions.clear();
  });
}
