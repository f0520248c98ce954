import { canCancelStream, canReadStream } from '@ss/core';
import { type StreamInfo, StreamstraightError, describeValue, parseConsumerCancel, parseConsumerSubscribe } from '@ss/core/protocol';
import type { StreamStore } from '../store/stream-store.js';
import type { ProducerHandle } from './producer-session.js';
import { type Reporting, replyTo, toErrorPayload } from './reply.js';
import type { ClientTokenClaims, RelaySocket } from './relay-socket.js';
import type { StreamHub } from './stream-hub.js';
import type { RelayLimits } from '../relay-limits.js';
import type { ReaderBudgets } from './reader-budget.js';
import { watchSocketReader } from './socket-reader-budget.js';

/** What a consumer session needs from the relay. */
export interface ConsumerSessionContext extends Reporting {
  store: StreamStore;
  hub: StreamHub;
  producers: Map<string, ProducerHandle>;
  clockToleranceSeconds: number;
  limits: Pick<RelayLimits, 'maxSubscriptionsPerConnection'>;
  /** Backpressure: every reader connection gets a budget of these. */
  readerBudgets: ReaderBudgets;
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
  /**
   * This connection's subscriptions by stream: at most one each (the hub enforces it too). `run`
   * grows with every start, so a start that finishes after a newer one of the same stream (two
   * subscribes in flight) stops its own delivery instead of adding a second one.
   */
  const subscriptions = new Map<string, { run: number; stop: (() => void) | undefined }>();
  let runs = 0;

  // Backpressure: a reader that falls behind moves to paced reads; one that stops reading is dropped.
  const budget = watchSocketReader(socket, context.readerBudgets, (reason, queuedBytes) => {
    context.throttledLog.write('warn', `slow-reader:${reason}`, { reason, queuedBytes }, 'dropped a slow reader (SLOW_READER)');
  });
  socket.data.readerBudget = budget;
  budget.onBehind(() => {
    for (const streamId of subscriptions.keys()) context.hub.fallBehind(socket, streamId);
  });

  /** Refuses a subscription to one more stream past the cap; re-subscribing to a held stream is always allowed. */
  const checkCap = (streamId: string) => {
    if (subscriptions.has(streamId) || subscriptions.size < context.limits.maxSubscriptionsPerConnection) return;
    throw new StreamstraightError(
      'QUOTA_EXCEEDED',
      `This connection already reads ${subscriptions.size} streams, the most one reader connection may (maxSubscriptionsPerConnection = ${context.limits.maxSubscriptionsPerConnection}). Unsubscribe from one, or open another connection.`,
      { quota: { name: 'maxSubscriptionsPerConnection', limit: context.limits.maxSubscriptionsPerConnection } },
    );
  };

  /** Starts delivering `streamId` from `fromSeq`, replacing an earlier subscription to it. */
  const start = async (streamId: string, fromSeq: number): Promise<void> => {
    checkCap(streamId);
    subscriptions.get(streamId)?.stop?.();
    const run = ++runs;
    subscriptions.set(streamId, { run, stop: undefined });
    context.log.debug({ streamId, fromSeq }, 'reader subscribed');
    const stop = await context.hub.subscribe(socket, streamId, fromSeq);
    const current = subscriptions.get(streamId);
    if (socket.disconnected || current?.run !== run) {
      stop();
      return;
    }
    current.stop = stop;
  };

  const unsubscribe = (streamId: string) => {
    subscriptions.get(streamId)?.stop?.();
    subscriptions.delete(streamId);
  };

  const infoOrNotFound = async (streamId: string) => {
    const info = await context.store.info(streamId);
    if (!info) {
      throw new StreamstraightError('STREAM_NOT_FOUND', `Stream "${streamId}" does not exist (yet, or any more). Retry once its producer has started.`, {
        retryInMs: 500,
      });
    }
    return info;
  };

  // The subscription asked for in the handshake starts now, before the reader's own
  // `consumer:subscribe` (which it sends anyway, and which then only gets its answer). Any refusal
  // is left for that subscribe to report. `started` has the stream's info once delivery started,
  // for the answer: the store is not asked twice.
  let handshakeSubscription: { streamId: string; fromSeq: number; started: Promise<StreamInfo | undefined> } | undefined;
  if (identity.subscribe) {
    const { streamId, fromSeq } = identity.subscribe;
    const started = (async () => {
      checkToken(claims, streamId, 'read', context.clockToleranceSeconds);
      const info = await infoOrNotFound(streamId);
      if (socket.disconnected) return undefined;
      await start(streamId, fromSeq);
      return info;
    })().catch(() => undefined);
    handshakeSubscription = { streamId, fromSeq, started };
  }

  socket.onAny((event: string) => {
    if (!CONSUMER_EVENTS.has(event)) {
      socket.emit('stream:error', {
        code: 'UNKNOWN_EVENT',
        message: `Unknown event ${describeValue(event)} for a reader. Known: ${[...CONSUMER_EVENTS].join(', ')}.`,
      });
    }
  });

  socket.on('consumer:subscribe', async (payload, ack) => {
    const reply = replyTo(socket, ack);
    try {
      const request = parseConsumerSubscribe(payload);
      const fromSeq = request.fromSeq ?? 0;
      checkToken(claims, request.streamId, 'read', context.clockToleranceSeconds);
      // Only the first subscribe can be the one the handshake already started.
      const early = handshakeSubscription;
      handshakeSubscription = undefined;
      const startedWith = early?.streamId === request.streamId && early.fromSeq === fromSeq ? await early.started : undefined;
      if (startedWith) {
        reply({ ok: true, info: startedWith });
        return;
      }
      checkCap(request.streamId);
      const info = await infoOrNotFound(request.streamId);
      reply({ ok: true, info });
      if (socket.disconnected) return;
      // A second subscribe to the same stream replaces the first (a reader resuming after a gap):
      // one subscription per (connection, stream), so each chunk reaches the connection once.
      await start(request.streamId, fromSeq);
    } catch (error) {
      reply({ ok: false, error: toErrorPayload(error, context) });
    }
  });

  socket.on('consumer:unsubscribe', (payload) => {
    const streamId = (payload as { streamId?: unknown } | null)?.streamId;
    if (typeof streamId !== 'string') return;
    unsubscribe(streamId);
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
    for (const streamId of [...subscriptions.keys()]) unsubscribe(streamId);
  });
}
