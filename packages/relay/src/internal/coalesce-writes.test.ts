import type { Socket as TcpSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMuxProducer } from '../../test/support/raw-clients.js';
import { type Relay, createRelay } from '../relay.js';
import { silentLogger } from '../logger.js';

const API_KEY = 'coalesce-test-key';
let relay: Relay | undefined;

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** The TCP socket under the relay's only connection, and a counter of the writes made on it. */
function countWrites(current: Relay): { tcp: TcpSocket; writes: () => number } {
  const [socket] = current.io.sockets.sockets.values();
  const tcp = (socket!.conn.transport as unknown as { socket: { _socket: TcpSocket } }).socket._socket;
  let writes = 0;
  const internals = tcp as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
  const write = internals._write;
  const writev = internals._writev;
  internals._write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return write.apply(this, args);
  };
  internals._writev = function (this: unknown, ...args: unknown[]) {
    writes++;
    return writev.apply(this, args);
  };
  return { tcp, writes: () => writes };
}

describe('coalesceWrites', () => {
  it('answers a burst of frames for many streams with a few writes, every ack intact', async () => {
    relay = createRelay({ apiKeys: [API_KEY], log: silentLogger });
    const { url } = await relay.listen(0);
    const producer = await connectMuxProducer(url, API_KEY);
    const streams = Array.from({ length: 200 }, (_, index) => `burst-${index}`);
    await Promise.all(streams.map((streamId) => producer.emitWithAck('mux:open', { streamId })));
    const { writes } = countWrites(relay);

    const acks = await Promise.all(streams.map((streamId, index) => producer.emitWithAck('mux:chunks', { streamId, seq: 0, data: [`"${index}"`] })));

    expect(acks).toEqual(streams.map(() => ({ ok: true, lastSeq: 0 })));
    // One write per ack would be 200; batches of queued acks go out together.
    expect(writes()).toBeLessThan(50);
    for (const [index, streamId] of streams.entries()) expect(await relay.store.read(streamId, 0, 10)).toEqual([`"${index}"`]);
    producer.close();
  });
});
