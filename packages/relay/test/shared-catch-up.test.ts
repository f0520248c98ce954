// Readers that open a finished stream together share the hub's store reads (one read per batch,
// not one per reader), and each still gets every chunk once, in order.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { memoryStore, type StreamStore } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectReader, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';

const API_KEY = 'test-key-shared-reads';
const later = useCleanups();

/** The memory store, counting the reads made through it, each taking a few ms like a remote store's. */
function countingStore(): { store: StreamStore; reads: () => number } {
  const inner = memoryStore();
  let reads = 0;
  const store: StreamStore = {
    ...inner,
    async read(streamId, fromSeq, limit) {
      reads++;
      await sleep(10);
      return inner.read(streamId, fromSeq, limit);
    },
  };
  return { store, reads: () => reads };
}

describe('catch-up reads', () => {
  it('20 readers of a finished 3,000-chunk stream share the store reads and each get it all', async () => {
    const { store, reads } = countingStore();
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], store });
    const producer = later(await connectMuxProducer(url, API_KEY), close);
    await producer.emitWithAck('mux:open', { streamId: 'finished' });
    const chunks = Array.from({ length: 3000 }, (_, index) => JSON.stringify(`t${index}`));
    for (let seq = 0; seq < chunks.length; seq += 1000) {
      await producer.emitWithAck('mux:chunks', { streamId: 'finished', seq, data: chunks.slice(seq, seq + 1000) });
    }
    await producer.emitWithAck('mux:end', { streamId: 'finished', reason: 'completed', lastSeq: 2999 });

    const readers = await Promise.all(Array.from({ length: 20 }, async () => later(await connectReader(url, API_KEY, ['finished']), close)));
    const results = await Promise.all(readers.map((reader) => readToEnd(reader, 'finished')));

    for (const result of results) expect(result.data).toEqual(chunks);
    // Alone, each reader would make 3 reads (batches of 1,024): 60. Together they share most of them.
    expect(reads()).toBeLessThan(30);
  });
});
