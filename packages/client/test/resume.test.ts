// Reader reconnects against a real relay: the TCP connection is really cut (through a proxy), the
// relay drops the reader, frames arrive out of order. The reader must resume at its next chunk —
// never from 0 — and hand out every chunk exactly once, in order.
import { describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../relay/test/support/tcp-proxy.js';
import { type StreamstraightClientOptions, type ReaderStatus, streamstraightClient } from '../src/index.js';
import { type MuxProducer, expectedText, token, writeRange } from './support/mux-producer.js';
import { type RelayFixture, sleep, subscribedSocket, until } from './support/relay-fixture.js';
import { readAll, startRelayWithProducer, useCleanups } from './support/test-scope.js';

const defer = useCleanups();

async function setup(): Promise<{ fixture: RelayFixture; producer: MuxProducer; proxy: TcpProxy }> {
  const { fixture, producer } = await startRelayWithProducer(defer);
  const proxy = await startTcpProxy(fixture.port);
  defer(() => proxy.close());
  return { fixture, producer, proxy };
}

function reader(baseUrl: string, fixture: RelayFixture, streamId: string, options: Partial<StreamstraightClientOptions<string>> = {}, statuses?: ReaderStatus[]) {
  const created = streamstraightClient<string>(
    { baseUrl, fetchToken: () => fixture.mint([streamId]), retryBaseMs: 20, retryMaxMs: 100, ...options },
    { streamId, onStatus: statuses ? (status) => statuses.push(status) : undefined },
  );
  defer(() => created.close());
  return created;
}


describe('resuming after the connection is cut', () => {
  it('resumes at the next chunk after several real connection drops; the relay never resends from 0', async () => {
    const { fixture, producer, proxy } = await setup();
    const streamId = 'cut';
    const total = 3_000;
    await producer.open(streamId);
    const statuses: ReaderStatus[] = [];
    const cut = reader(proxy.url, fixture, streamId, {}, statuses);
    const text = readAll(cut);
    const writing = writeRange(producer, streamId, 0, total, 16, 2).then(() => producer.end(streamId));

    const consumedAtDrop: number[] = [];
    for (const threshold of [300, 900, 1_500, 2_100]) {
      await until(() => cut.lastSeq >= threshold, 20_000, `the reader to pass chunk ${threshold}`);
      consumedAtDrop.push(cut.lastSeq);
      expect(proxy.dropConnections()).toBeGreaterThan(0);
      await until(() => cut.status === 'live', 10_000, 'the reader to resume');
    }
    await writing;
    expect(await text).toBe(expectedText(0, total));
    expect(cut.lastSeq).toBe(total - 1);
    expect(cut.endReason).toBe('completed');
    expect(statuses.filter((status) => status === 'resuming')).toHaveLength(4);
    expect(statuses.at(-1)).toBe('ended');

    // One subscribe per connection: the first from 0, each later one from beyond what was consumed.
    const subscribes = fixture.subscribes.filter((entry) => entry.streamId === streamId);
    expect(subscribes).toHaveLength(5);
    expect(subscribes[0]?.fromSeq).toBe(0);
    for (const [index, consumed] of consumedAtDrop.entries()) {
      expect(subscribes[index + 1]?.fromSeq).toBeGreaterThan(consumed);
    }
    expect(new Set(subscribes.map((entry) => entry.socketId)).size).toBe(5);
    // Only what was in flight at a drop could be sent twice.
    expect(fixture.chunksSent.get(streamId)).toBeLessThan(total + 4 * 200);
  });

  it('resumes a reader that is far behind: it asks from what it has received, not from what it has consumed', async () => {
    const { fixture, producer, proxy } = await setup();
    await producer.open('slow');
    await writeRange(producer, 'slow', 0, 1_000);
    const slow = reader(proxy.url, fixture, 'slow');
    const first = await slow.next();
    expect(first).toEqual({ done: false, value: 't0 ' });
    await until(() => (fixture.chunksSent.get('slow') ?? 0) >= 1_000, 5_000, 'the catch-up to be sent');
    await sleep(50); // let the frames land in the reader's queue
    proxy.dropConnections();
    await until(() => fixture.subscribes.filter((entry) => entry.streamId === 'slow').length === 2, 5_000, 'the resubscribe');
    expect(fixture.subscribes.at(-1)?.fromSeq).toBe(1_000);
    await writeRange(producer, 'slow', 1_000, 1_100);
    await producer.end('slow');
    expect('t0 ' + (await readAll(slow))).toBe(expectedText(0, 1_100));
  });

  it('comes back when the relay refuses connections for a while', async () => {
    const { fixture, producer, proxy } = await setup();
    await producer.open('outage');
    const outage = reader(proxy.url, fixture, 'outage');
    const text = readAll(outage);
    await writeRange(producer, 'outage', 0, 100);
    await until(() => outage.lastSeq === 99, 5_000, 'the first chunks');
    proxy.pause();
    proxy.dropConnections();
    await writeRange(producer, 'outage', 100, 200);
    // It notices the cut on its own time; then it stays resuming while the relay refuses it.
    await until(() => outage.status === 'resuming', 5_000, 'the reader to notice the cut');
    await sleep(300);
    expect(outage.status).toBe('resuming');
    proxy.resume();
    await producer.end('outage');
    expect(await text).toBe(expectedText(0, 200));
  });

  it('gives up with RELAY_UNAVAILABLE after `retries` failed attempts', async () => {
    const { fixture, producer, proxy } = await setup();
    await producer.open('down');
    proxy.pause();
    const down = reader(proxy.url, fixture, 'down', { retries: 2 });
    await expect(readAll(down)).rejects.toMatchObject({ name: 'StreamstraightError', code: 'RELAY_UNAVAILABLE' });
    expect(down.status).toBe('closed');
    expect(down.error?.code).toBe('RELAY_UNAVAILABLE');
  });

  it('reconnects by itself when the relay disconnects it on purpose', async () => {
    const { fixture, producer } = await setup();
    await producer.open('kicked');
    const kicked = reader(fixture.url, fixture, 'kicked');
    const text = readAll(kicked);
    await writeRange(producer, 'kicked', 0, 100);
    await until(() => kicked.lastSeq === 99, 5_000, 'the first chunks');
    (await subscribedSocket(fixture)).disconnect(true);
    await writeRange(producer, 'kicked', 100, 200);
    await producer.end('kicked');
    expect(await text).toBe(expectedText(0, 200));
    // The new connection asks for chunk 100 on: in its handshake (which starts the delivery), then in its subscribe.
    await until(() => fixture.subscribes.length === 2, 5_000, 'the subscribe of the new connection');
    expect(fixture.subscribes.map((entry) => entry.fromSeq)).toEqual([0, 100]);
  });

  it('drops duplicate frames and resubscribes on a gap instead of handing out chunks out of order', async () => {
    const { fixture, producer } = await setup();
    await producer.open('forged');
    const forged = reader(fixture.url, fixture, 'forged');
    const text = readAll(forged);
    await writeRange(producer, 'forged', 0, 10);
    await until(() => forged.lastSeq === 9, 5_000, 'the first chunks');
    const socket = await subscribedSocket(fixture);
    // A replayed frame, a frame from the future, and one for another stream: none may reach the consumer.
    socket.emit('stream:chunks', { streamId: 'forged', seq: 3, data: [token(1000), token(1001)] });
    socket.emit('stream:chunks', { streamId: 'forged', seq: 15, data: [token(2000)] });
    socket.emit('stream:chunks', { streamId: 'other', seq: 10, data: [token(3000)] });
    await until(() => fixture.subscribes.length === 2, 5_000, 'the resubscribe after the gap');
    expect(fixture.subscribes[1]?.fromSeq).toBe(10);
    await writeRange(producer, 'forged', 10, 20);
    await producer.end('forged');
    expect(await text).toBe(expectedText(0, 20));
  });

  it('fetches the missing chunks when stream:end announces more than it has received', async () => {
    const { fixture, producer } = await setup();
    await producer.open('early-end');
    const reader1 = reader(fixture.url, fixture, 'early-end');
    const text = readAll(reader1);
    await writeRange(producer, 'early-end', 0, 5);
    await until(() => reader1.lastSeq === 4, 5_000, 'the first chunks');
    const socket = await subscribedSocket(fixture);
    socket.emit('stream:end', { streamId: 'early-end', reason: 'completed', lastSeq: 7 });
    await until(() => fixture.subscribes.length === 2, 5_000, 'the resubscribe after the early end');
    expect(fixture.subscribes[1]?.fromSeq).toBe(5);
    await writeRange(producer, 'early-end', 5, 8);
    await producer.end('early-end');
    expect(await text).toBe(expectedText(0, 8));
  });
});
