// A minimal relay speaking the producer's side of the mux protocol, for core's unit tests of the
// tee (core cannot depend on @ss/relay; the adapters' contract suite runs against the real one).
// It stores chunks idempotently, can hold back acks (a slow or stuck relay), and can send a
// reader's cancel.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';

export interface StubStream {
  chunks: string[];
  end: { reason: string; lastSeq: number } | undefined;
}

export interface StubRelay extends AsyncDisposable {
  url: string;
  streams: Map<string, StubStream>;
  /** While true, `mux:chunks` acks are held back (chunks are not stored). */
  holdAcks: boolean;
  /** Acknowledges every held frame. */
  releaseAcks(): void;
  /** Sends `mux:cancel` for `streamId` to the producers. */
  cancel(streamId: string): void;
  /** Resolves when `streamId` has ended. */
  ended(streamId: string): Promise<StubStream>;
  close(): Promise<void>;
}

export async function startStubRelay(): Promise<StubRelay> {
  const httpServer = createServer();
  const io = new Server(httpServer, { path: '/socket.io', serveClient: false });
  const streams = new Map<string, StubStream>();
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const waiters = new Map<string, Array<(stream: StubStream) => void>>();
  const streamOf = (streamId: string): StubStream => {
    let stream = streams.get(streamId);
    if (!stream) {
      stream = { chunks: [], end: undefined };
      streams.set(streamId, stream);
    }
    return stream;
  };
  io.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('disconnect', () => sockets.delete(socket));
    socket.on('mux:open', ({ streamId }: { streamId: string }, ack: (value: unknown) => void) => {
      const stream = streamOf(streamId);
      ack({ ok: true, info: { streamId, status: stream.end ? 'ended' : 'open', lastSeq: stream.chunks.length - 1 } });
    });
    socket.on('mux:chunks', ({ streamId, seq, data }: { streamId: string; seq: number; data: string[] }, ack: (value: unknown) => void) => {
      const store = () => {
        const stream = streamOf(streamId);
        data.forEach((chunk, offset) => {
          if (seq + offset === stream.chunks.length) stream.chunks.push(chunk);
        });
        ack({ ok: true, lastSeq: stream.chunks.length - 1 });
      };
      if (relay.holdAcks) held.push(store);
      else store();
    });
    socket.on('mux:end', ({ streamId, reason, lastSeq }: { streamId: string; reason: string; lastSeq: number }, ack: (value: unknown) => void) => {
      const stream = streamOf(streamId);
      stream.end = { reason, lastSeq };
      ack({ ok: true, info: { streamId, status: 'ended', lastSeq: stream.chunks.length - 1, endReason: reason } });
      for (const resolve of waiters.get(streamId) ?? []) resolve(stream);
      waiters.delete(streamId);
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  const relay: StubRelay = {
    url: `http://127.0.0.1:${port}`,
    streams,
    holdAcks: false,
    releaseAcks() {
      relay.holdAcks = false;
      for (const store of held.splice(0)) store();
    },
    cancel(streamId) {
      for (const socket of sockets) socket.emit('mux:cancel', { streamId, reason: 'reader cancelled' });
    },
    ended(streamId) {
      const stream = streams.get(streamId);
      if (stream?.end) return Promise.resolve(stream);
      return new Promise((resolve) => waiters.set(streamId, [...(waiters.get(streamId) ?? []), resolve]));
    },
    close: () => new Promise<void>((resolve) => io.close(() => resolve())),
    [Symbol.asyncDispose]: () => relay.close(),
  };
  return relay;
}
