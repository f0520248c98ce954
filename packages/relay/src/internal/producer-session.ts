import {
  type EndReason,
  type ErrorPayload,
  StreamstraightError,
  MUX_BATCH_FEATURE,
  type MuxChunks,
  type MuxChunksAck,
  parseMuxBatch,
  parseMuxChunks,
  parseMuxEnd,
  parseMuxOpen,
  parseProducerChunkV1,
  parseProducerEndV1,
  describeValue,
} from '@ss/core/protocol';
import type { OpenMode, StreamStore } from '../store/stream-store.js';
import { KeyedSerialQueue } from './keyed-serial-queue.js';
import { createProducerOperations, openModeOf } from './producer-operations.js';
import type { ProducerQuotas } from './producer-quotas.js';
import { type Reporting, replyTo, toErrorPayload } from './reply.js';
import type { RelaySocket } from './relay-socket.js';

/** What a producer session needs from the relay. */
export interface ProducerSessionContext extends Reporting {
  store: StreamStore;
  deploymentId: string;
  maxChunkBytes: number;
  /** How long a stream whose producer vanished stays open, waiting for it to come back. */
  producerGraceMs: number;
  /** Which producer socket holds which stream on this node (for reader-initiated cancels). */
  producers: Map<string, ProducerHandle>;
  /** Open streams, stored bytes and chunk rate per connection and per API key. */
  quotas: ProducerQuotas;
}

/** A stream's producer on this node, as cancels see it. */
export interface ProducerHandle {
  cancel(streamId: string, reason: string): Promise<void>;
}

const MUX_EVENTS = new Set(['mux:open', 'mux:chunks', 'mux:batch', 'mux:end', 'producer:heartbeat']);
const V1_EVENTS = new Set(['producer:chunk', 'producer:end', 'producer:heartbeat']);

/**
 * Serves one producer connection: stream-v1 (one stream named in the handshake) or the mux
 * extension (any number of streams). Frames of one stream are handled strictly in order.
 */
export function startProducerSession(socket: RelaySocket, context: ProducerSessionContext): void {
  const identity = socket.data.identity;
  if (identity.role !== 'producer') return;
  const { store } = context;
  const operations = createProducerOperations(context);
  const queue = new KeyedSerialQueue();
  /** Streams this connection holds the lease of. */
  const leases = new Map<string, number>();

  const handle: ProducerHandle = {
    async cancel(streamId, reason) {
      if (identity.protocol === 'mux') {
        socket.emit('mux:cancel', { streamId, reason });
        return;
      }
      // stream-v1 has no cancel frame: end the stream here; the producer's next chunk is refused.
      const lease = leases.get(streamId);
      if (lease !== undefined) await store.end(streamId, lease, 'cancelled');
    },
  };

  const { quotas } = context;
  const { keyId } = identity;
  const takeChunks = quotas.chunkRate();

  const open = (streamId: string, mode: OpenMode, openId?: string) => {
    if (!leases.has(streamId)) quotas.checkOpen(keyId, leases.size);
    return operations.open(keyId, streamId, mode, openId).then((result) => {
      if (!leases.has(streamId)) quotas.opened(keyId);
      leases.set(streamId, result.lease);
      context.producers.set(streamId, handle);
      context.log.debug({ streamId, mode, protocol: identity.protocol, lastSeq: result.info.lastSeq }, 'stream opened');
      return result.info;
    });
  };

  const leaseOf = (streamId: string): number => {
    const lease = leases.get(streamId);
    if (lease === undefined) {
      throw new StreamstraightError('STREAM_NOT_FOUND', `Stream "${streamId}" is not open on this connection. Send mux:open first.`);
    }
    return lease;
  };

  const release = (streamId: string) => {
    if (leases.delete(streamId)) quotas.released(keyId);
    if (context.producers.get(streamId) === handle) context.producers.delete(streamId);
  };

  socket.onAny((event: string) => {
    const known = identity.protocol === 'mux' ? MUX_EVENTS : V1_EVENTS;
    if (!known.has(event)) {
      socket.emit('stream:error', {
        code: 'UNKNOWN_EVENT',
        message: `Unknown event ${describeValue(event)} for a ${identity.protocol === 'mux' ? 'multiplexing' : 'stream-v1'} producer. Known: ${[...known].join(', ')}.`,
      });
    }
  });

  if (identity.protocol === 'mux') {
    socket.emit('mux:hello', { features: [MUX_BATCH_FEATURE] });

    /** Validates a frame, then runs `work` in the stream's queue and gives the outcome to `answer`. */
    const runFrame = <Frame extends { streamId: string }>(
      payload: unknown,
      parse: (payload: unknown) => Frame,
      work: (frame: Frame, lease: () => number) => Promise<object>,
      answer: (result: { ok: true } | { ok: false; error: ErrorPayload }) => void,
    ) => {
      try {
        const frame = parse(payload);
        queue.run(frame.streamId, async () => {
          try {
            answer({ ok: true, ...(await work(frame, () => leaseOf(frame.streamId))) });
          } catch (error) {
            answer({ ok: false, error: toErrorPayload(error, context) });
          }
        });
      } catch (error) {
        answer({ ok: false, error: toErrorPayload(error, context) });
      }
    };

    /** A frame sent as its own event: answered through its ack. */
    const onFrame = <Frame extends { streamId: string }>(
      payload: unknown,
      ack: unknown,
      parse: (payload: unknown) => Frame,
      work: (frame: Frame, lease: () => number) => Promise<object>,
    ) => {
      const claimedId = (payload as { streamId?: unknown } | null)?.streamId;
      runFrame(payload, parse, work, replyTo(socket, ack, typeof claimedId === 'string' ? claimedId : undefined));
    };

    socket.on('mux:open', (payload, ack) =>
      onFrame(payload, ack, parseMuxOpen, async (request) => {
        const mode = openModeOf(request);
        if (mode === 'resume' && request.openId === undefined) {
          // Without the openId it was opened with, a resume could take over another producer's stream.
          throw new StreamstraightError(
            'BAD_REQUEST',
            `mux:open with resume: true needs the openId stream "${request.streamId}" was opened with. A stream opened without one cannot be resumed; open a new id or overwrite it.`,
          );
        }
        return { info: await open(request.streamId, mode, request.openId) };
      }),
    );

    /**
     * A reader on another relay node cancels a stream whose producer is connected here by ending it
     * `cancelled` in the shared store. The producer learns of it from the refused write: tell it
     * with the cancel frame first (it then takes the STREAM_ENDED that follows as that cancel),
     * so its abort signal fires as for a cancel on this node.
     */
    const announceRemoteCancel = async (streamId: string, error: unknown): Promise<never> => {
      if (StreamstraightError.isInstance(error) && error.code === 'STREAM_ENDED') {
        const info = await store.info(streamId).catch(() => undefined);
        if (info?.endReason === 'cancelled') socket.emit('mux:cancel', { streamId, reason: 'cancelled by a reader on another relay node' });
      }
      throw error;
    };

    const parseChunks = (raw: unknown) => {
      const frame = parseMuxChunks(raw);
      operations.checkChunkSizes(frame.data);
      takeChunks(frame.data.length);
      return frame;
    };
    // The hot path (one call per stream per frame): no closure per call.
    const appendChunks = async (frame: MuxChunks, lease: () => number) => {
      try {
        return await operations.append(keyId, frame.streamId, lease(), frame.seq, frame.data);
      } catch (error) {
        return announceRemoteCancel(frame.streamId, error);
      }
    };

    socket.on('mux:chunks', (payload, ack) => onFrame(payload, ack, parseChunks, appendChunks));

    // Frames of several streams in one event (announced in mux:hello): each runs as if it had come
    // alone, in its stream's queue; one ack carries every answer, in order.
    socket.on('mux:batch', (payload, ack) => {
      const reply = replyTo(socket, ack);
      let frames: unknown[];
      try {
        frames = parseMuxBatch(payload).frames;
      } catch (error) {
        reply({ ok: false, error: toErrorPayload(error, context) });
        return;
      }
      const results = new Array<MuxChunksAck>(frames.length);
      let remaining = frames.length;
      for (let index = 0; index < frames.length; index++) {
        runFrame(frames[index], parseChunks, appendChunks, (result) => {
          results[index] = result as MuxChunksAck;
          if (--remaining === 0) reply({ ok: true, results });
        });
      }
    });

    socket.on('mux:end', (payload, ack) =>
      onFrame(payload, ack, parseMuxEnd, async (frame, lease) => {
        const info = await operations.end(frame.streamId, lease(), frame.reason, frame.lastSeq).catch((error: unknown) => announceRemoteCancel(frame.streamId, error));
        release(frame.streamId);
        context.log.debug({ streamId: frame.streamId, reason: frame.reason, lastSeq: info.lastSeq }, 'stream ended');
        return { info };
      }),
    );
  } else {
    const { streamId } = identity;
    queue.run(streamId, async () => {
      try {
        const info = await open(streamId, identity.overwrite ? 'overwrite' : 'attach');
        socket.emit('stream:info', {
          streamId,
          deploymentId: context.deploymentId,
          ...(info.lastSeq >= 0 ? { lastSeq: info.lastSeq } : {}),
          ended: false,
        });
      } catch (error) {
        socket.emit('stream:error', toErrorPayload(error, context));
        socket.disconnect(true);
      }
    });

    socket.on('producer:chunk', (payload) => {
      try {
        const chunk = parseProducerChunkV1(payload);
        operations.checkChunkSizes([chunk.data]);
        takeChunks(1);
        queue.run(streamId, async () => {
          try {
            await operations.append(keyId, streamId, leaseOf(streamId), chunk.seq, [chunk.data]);
            socket.emit('producer:ack', { seq: chunk.seq, redisId: String(chunk.seq) });
          } catch (error) {
            socket.emit('stream:error', toErrorPayload(error, context));
          }
        });
      } catch (error) {
        socket.emit('stream:error', toErrorPayload(error, context));
      }
    });

    socket.on('producer:end', (payload, ack) => {
      const reply = (result: { success: true; endRedisId: string } | { success: false; error: ErrorPayload }) => {
        if (typeof ack === 'function') ack(result);
        else if (!result.success) socket.emit('stream:error', result.error);
      };
      try {
        const frame = parseProducerEndV1(payload);
        queue.run(streamId, async () => {
          try {
            // stream-v1 reports lastSeq as max(nextSeq - 1, 0), ambiguous for an empty stream: trust the store.
            const info = await operations.end(streamId, leaseOf(streamId), frame.reason);
            release(streamId);
            context.log.debug({ streamId, reason: frame.reason, lastSeq: info.lastSeq }, 'stream ended');
            reply({ success: true, endRedisId: `${info.lastSeq}-end` });
          } catch (error) {
            reply({ success: false, error: toErrorPayload(error, context) });
          }
        });
      } catch (error) {
        reply({ success: false, error: toErrorPayload(error, context) });
      }
    });
  }

  socket.on('producer:heartbeat', () => {});

  socket.on('disconnect', () => {
    // The producer may come back (its SDK reconnects and resumes). If it has not taken the stream
    // again within the grace period, end the stream so no reader waits forever.
    for (const [streamId, lease] of leases) {
      if (context.producers.get(streamId) === handle) context.producers.delete(streamId);
      context.log.debug({ streamId, graceMs: context.producerGraceMs }, 'producer disconnected with the stream open; waiting for it to come back');
      // It keeps counting against its key's open streams until then.
      const timer = setTimeout(() => {
        void endIfAbandoned(store, streamId, lease, 'producer-disconnected', context).finally(() => quotas.released(keyId));
      }, context.producerGraceMs);
      timer.unref();
    }
    leases.clear();
  });
}

async function endIfAbandoned(store: StreamStore, streamId: string, lease: number, reason: EndReason, reporting: Reporting): Promise<void> {
  try {
    const info = await store.info(streamId);
    if (info?.status !== 'open') return;
    const ended = await store.end(streamId, lease, reason);
    reporting.metrics.streamsEnded.inc({ reason });
    reporting.log.debug({ streamId, reason, lastSeq: ended.lastSeq }, 'stream ended: its producer did not come back');
  } catch (error) {
    // LEASE_LOST: another producer took the stream over, which is the good outcome. Anything else: the
    // inactivity timeout ends the stream later.
    if (StreamstraightError.isInstance(error) && error.code === 'LEASE_LOST') return;
    reporting.log.warn({ streamId, err: error }, 'could not end an abandoned stream; the inactivity timeout will end it');
  }
}
