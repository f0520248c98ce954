// A reader that stops reading (its TCP connection really stalls, through a proxy that stops
// reading the relay's side): the relay drops it with SLOW_READER, and the reader, reading again,
// resumes by itself from its next chunk, once, and hands out every chunk exactly once, in order.
import { describe, expect, it } from 'vitest';
import { startTcpProxy } from '../../relay/test/support/tcp-proxy.js';
import { type ReaderStatus, streamstraightClient } from '../src/index.js';
import { until } from './support/relay-fixture.js';
import { startRelayWithProducer, useCleanups } from './support/test-scope.js';

const defer = useCleanups();
const CHUNK = 'y'.repeat(1_000);

async function slowReaderDrops(relayUrl: string): Promise<number> {
  const text = await (await fetch(`${relayUrl}/metrics`)).text();
  return Number(/^ss_relay_limit_refusals_total\{limit="slowReaderTimeoutMs"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('a reader the relay drops as too slow', () => {
  it('resumes once it reads again: one reconnect from its next chunk, every chunk once, in order', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer, { limits: { maxQueuedBytesPerReader: 256 * 1024, slowReaderTimeoutMs: 1_000 } });
    const proxy = await startTcpProxy(fixture.port);
    defer(() => proxy.close());
    await producer.open('slow');
    const statuses: ReaderStatus[] = [];
    const reader = streamstraightClient<string>(
      { baseUrl: proxy.url, fetchToken: () => fixture.mint(['slow']), retryBaseMs: 20, retryMaxMs: 100 },
      { streamId: 'slow', onStatus: (status) => statuses.push(status) },
    );
    defer(() => reader.close());
    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of reader) received.push(chunk);
    })();
    await producer.write('slow', ['"first"']);
    await until(() => received.length === 1, 10_000, 'the first chunk');

    proxy.holdReplies();
    const total = 20_000; // 20 MB: more than the kernel buffers between the relay and the proxy hold
    for (let seq = 1; seq < total; seq += 500) {
      await producer.write('slow', Array.from({ length: Math.min(500, total - seq) }, () => JSON.stringify(CHUNK)));
    }
    const deadline = Date.now() + 20_000;
    while ((await slowReaderDrops(fixture.url)) < 1) {
      if (Date.now() > deadline) throw new Error('the relay never dropped the stalled reader');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Reading again at once, within the relay's close grace: the reader gets what was queued, then the
    // SLOW_READER notice and the close, and reconnects.
    proxy.releaseReplies();
    await producer.end('slow');
    await reading;
    expect(received).toHaveLength(total);
    expect(received.slice(1).every((chunk) => chunk === CHUNK)).toBe(true);
    expect(reader.lastSeq).toBe(total - 1);
    expect(fixture.readerConnections).toBe(2); // one reconnect
    const resubscribe = fixture.subscribes.at(-1)!;
    expect(resubscribe.fromSeq).toBeGreaterThan(0); // from its next chunk, not from 0
    expect(statuses.filter((status) => status === 'resuming')).toHaveLength(1);
  }, 60_000);
});
