import type { EndReason, StreamstraightError } from '@ss/core/protocol';
import type { ReaderStatus, StreamOptions, StreamReader, StreamstraightClientOptions } from '../streamstraight-client.js';
import { asyncDispose } from './reader-common.js';
import { SocketStreamReader } from './socket-stream-reader.js';
import { SseStreamReader } from './sse-stream-reader.js';

/**
 * `transport: 'auto'`: reads over Socket.IO (WebSocket), and switches to Server-Sent Events when
 * the first WebSocket connection fails at the transport level (a proxy that blocks WebSocket, a
 * network that drops upgrades) before anything was read. The switch happens before the first
 * chunk, so it can lose or repeat nothing; once live, a reader keeps its transport.
 */
export class FallbackStreamReader<T> implements StreamReader<T> {
  private current!: StreamReader<T>;
  /** The transport being used. */
  transport: 'websocket' | 'sse' = 'websocket';

  constructor(
    options: StreamstraightClientOptions<T>,
    private readonly stream: StreamOptions,
  ) {
    let socketReader: SocketStreamReader<T> | undefined;
    socketReader = new SocketStreamReader<T>(options, this.withStatusOf(() => socketReader), {
      onTransportFailure: () => {
        if (this.transport !== 'websocket') return false;
        this.transport = 'sse';
        const replaced = this.current;
        let sseReader: SseStreamReader<T> | undefined;
        sseReader = new SseStreamReader<T>(options, this.withStatusOf(() => sseReader));
        this.current = sseReader;
        // Closed after the switch: its 'closed' status is not the reader's.
        queueMicrotask(() => replaced.close());
        return true;
      },
    });
    this.current ??= socketReader;
  }

  /** The stream options, with `onStatus` reporting only the reader in use. */
  private withStatusOf(reader: () => StreamReader<T> | undefined): StreamOptions {
    const onStatus = this.stream.onStatus;
    if (!onStatus) return this.stream;
    return {
      ...this.stream,
      onStatus: (status, from) => {
        // Before the constructor finished (an aborted signal closes at once) `current` is not set yet.
        if (this.current === undefined || (from === reader() && from === this.current)) onStatus(status, this as StreamReader<unknown>);
      },
    };
  }

  get streamId(): string {
    return this.current.streamId;
  }
  get lastSeq(): number {
    return this.current.lastSeq;
  }
  get status(): ReaderStatus {
    return this.current.status;
  }
  get endReason(): EndReason | undefined {
    return this.current.endReason;
  }
  get error(): StreamstraightError | undefined {
    return this.current.error;
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      const reader = this.current;
      const result = await reader.next();
      // The reader that answered was replaced meanwhile (its close ended the iteration): ask the new one.
      if (result.done && reader !== this.current) continue;
      return result;
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): StreamReader<T> {
    return this;
  }

  close(): void {
    this.current.close();
  }

  cancel(reason?: string): Promise<void> {
    return this.current.cancel(reason);
  }

  async [asyncDispose](): Promise<void> {
    this.close();
  }
}
