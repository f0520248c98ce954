import type { ErrorPayload, StreamInfo, StreamstraightError } from '@ss/core/protocol';
import type { ReaderBudgets, SlowReaderReason } from '../internal/reader-budget.js';
import type { StreamStore } from '../store/stream-store.js';
import type { EventFormat } from './event-formats.js';
import type { HttpFaceMetrics } from './http-face-metrics.js';
import { StreamFollower } from './stream-follower.js';

/** What {@link readerBody} needs. */
export interface ReaderBodyOptions {
  store: StreamStore;
  info: StreamInfo;
  fromSeq: number;
  format: EventFormat;
  /** Interval of keep-alive comments on a quiet response (formats that have them). */
  keepAliveMs: number;
  /** The relay's reader budgets: the same bounds as Socket.IO readers (`limits.maxQueuedBytesPerReader`, `limits.slowReaderTimeoutMs`). */
  budgets: ReaderBudgets;
  metrics: HttpFaceMetrics;
  /** Bytes the connection holds that it has not sent yet (Node: the response's `writableLength`). */
  transportQueuedBytes?: () => number;
  /** Closes the connection at once (a dropped reader whose socket is full would otherwise never notice). */
  destroyConnection?: () => void;
  /** Called when the reader is dropped. */
  onDrop?: (reason: SlowReaderReason, queuedBytes: number) => void;
}

const encoder = new TextEncoder();

/**
 * The body of an HTTP read: a byte stream fed by a {@link StreamFollower}, held to a reader budget
 * (`internal/reader-budget.ts`, shared with Socket.IO readers). What it counts as queued is its own
 * queue (high-water mark 0: exactly the bytes the connection has not taken) plus the connection's
 * unsent bytes. Stored chunks are read only while that is under a quarter of the bound; live
 * chunks are queued as they come; a reader past the bound, or with queued bytes and no progress
 * for the stall timeout, is dropped: its connection is closed and its queue freed. It resumes
 * from its last event id like after any cut.
 *
 * @returns the response body.
 */
export function readerBody(options: ReaderBodyOptions): ReadableStream<Uint8Array> {
  const { format, metrics } = options;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let follower: StreamFollower | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let lastWriteAt = Date.now();

  const ownQueued = (): number => (closed ? 0 : -(controller.desiredSize ?? 0));
  const queuedBytes = (): number => ownQueued() + (options.transportQueuedBytes?.() ?? 0);
  const metered = { queuedBytes };

  const budget = options.budgets.create({
    queuedBytes,
    drop(reason, queued) {
      if (closed) return;
      cleanup();
      options.onDrop?.(reason, queued);
      if (options.destroyConnection) {
        // Closing the socket cancels this body (its queue is freed) without an error to log.
        options.destroyConnection();
        return;
      }
      try {
        controller.error(new Error(`HTTP reader dropped (${reason}): ${queued} bytes queued`));
      } catch {
        // already errored or closed
      }
    },
  });

  function cleanup(): void {
    if (closed) return;
    closed = true;
    follower?.stop();
    if (timer !== undefined) clearInterval(timer);
    metrics.readers.delete(metered);
    budget.close();
  }

  const write = (text: string): void => {
    if (closed || text === '') return;
    controller.enqueue(encoder.encode(text));
    lastWriteAt = Date.now();
    budget.noteQueued();
  };

  const finish = (text: string): void => {
    if (closed) return;
    write(text);
    if (closed) return;
    cleanup();
    controller.close();
  };

  return new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
        metrics.readers.add(metered);
        write(format.opening());
        const keepAlive = format.keepAlive();
        if (keepAlive !== '') {
          timer = setInterval(() => {
            if (Date.now() - lastWriteAt >= options.keepAliveMs) write(keepAlive);
          }, options.keepAliveMs);
          timer.unref?.();
        }
        follower = new StreamFollower(options.store, options.info, options.fromSeq, {
          chunks: (seq, data) => write(format.chunks(seq, data)),
          end: (info) => finish(format.end(info)),
          error: (error: StreamstraightError) => finish(format.error(error.toJSON() as ErrorPayload)),
          ready: async () => {
            await budget.waitForRoom();
          },
        });
      },
      pull() {
        // The connection took everything queued and asks for more: progress.
        budget.noteProgress();
      },
      cancel() {
        cleanup();
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
}
