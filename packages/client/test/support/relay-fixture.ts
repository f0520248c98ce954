// A real relay on port 0, plus a record of what it saw from readers (every `consumer:subscribe`)
// and what it sent them (every `stream:chunks` frame), to check resume behaviour from the outside.
import { mintClientToken } from '@ss/core';
import { createRelay, type Relay, type RelayOptions } from '@ss/relay';

export const API_KEY = 'client-test-key';

export interface RelayFixture extends AsyncDisposable {
  relay: Relay;
  url: string;
  port: number;
  /** Every `consumer:subscribe` received, in order. */
  subscribes: Array<{ socketId: string; streamId: string; fromSeq: number }>;
  /** Number of chunks sent to readers in `stream:chunks` frames, per stream. */
  chunksSent: Map<string, number>;
  /** Reader connections accepted. */
  readerConnections: number;
  /** A token for `streamIds` (read, and cancel when asked). */
  mint(streamIds: string[], options?: { cancel?: boolean; expiresIn?: string | number }): Promise<string>;
  close(): Promise<void>;
}

export async function startRelay(options: Partial<RelayOptions> = {}): Promise<RelayFixture> {
  const relay = createRelay({ apiKeys: [API_KEY], log: () => {}, ...options });
  const { url, port } = await relay.listen(0);
  const fixture: RelayFixture = {
    relay,
    url,
    port,
    subscribes: [],
    chunksSent: new Map(),
    readerConnections: 0,
    mint: (streamIds, { cancel = false, expiresIn } = {}) => mintClientToken({ apiKey: API_KEY, streamIds, cancel, ...(expiresIn === undefined ? {} : { expiresIn }) }),
    close: () => relay.close(),
    [Symbol.asyncDispose]: () => relay.close(),
  };
  relay.io.on('connection', (socket) => {
    if ((socket.handshake.auth as { role?: string }).role !== 'consumer') return;
    fixture.readerConnections++;
    socket.onAny((event: string, payload: { streamId: string; fromSeq?: number }) => {
      if (event === 'consumer:subscribe') fixture.subscribes.push({ socketId: socket.id, streamId: payload.streamId, fromSeq: payload.fromSeq ?? 0 });
    });
    socket.onAnyOutgoing((event: string, payload: { streamId: string; data?: string[] }) => {
      if (event === 'stream:chunks') fixture.chunksSent.set(payload.streamId, (fixture.chunksSent.get(payload.streamId) ?? 0) + (payload.data?.length ?? 0));
    });
  });
  return fixture;
}

/** Waits until `predicate()` holds, polling every 10 ms. */
export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The relay's end of a reader connection. */
type RelaySideSocket = NonNullable<ReturnType<Relay['io']['sockets']['sockets']['get']>>;

/**
 * The relay's end of the reader connection that sent the `index`-th `consumer:subscribe`, once the
 * relay has read it: the handshake already starts the delivery, so a reader may hold its first
 * chunks before the relay has read its subscribe.
 */
export async function subscribedSocket(fixture: RelayFixture, index = 0): Promise<RelaySideSocket> {
  await until(() => fixture.subscribes.length > index, 5_000, `consumer:subscribe #${index + 1}`);
  const socket = fixture.relay.io.sockets.sockets.get(fixture.subscribes[index]!.socketId);
  if (!socket) throw new Error(`the connection of consumer:subscribe #${index + 1} is gone`);
  return socket;
}
