// The StreamStore contract: one suite, run against every implementation (memory, Redis).
// Usage in a test file: `describeStreamStoreContract('memory', (retention) => memoryStore(retention))`.
import { StreamstraightError, type StreamstraightErrorCode } from '@ss/core/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { RetentionOptions, StoreEvent, StreamStore } from './stream-store.js';

export type StoreFactory = (retention: RetentionOptions) => StreamStore | Promise<StreamStore>;

async function expectCode(promise: Promise<unknown>, code: StreamstraightErrorCode) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(StreamstraightError.isInstance(error), `expected a StreamstraightError ${code}, got ${String(error)}`).toBe(true);
  expect((error as StreamstraightError).code).toBe(code);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeStreamStoreContract(name: string, factory: StoreFactory): void {
  describe(`StreamStore contract: ${name}`, () => {
    const opened: StreamStore[] = [];
    let counter = 0;
    const uniqueId = () => `contract-${name}-${process.pid}-${Date.now()}-${counter++}`;
    const make = async (retention: RetentionOptions = {}) => {
      const store = await factory(retention);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it('opens an empty stream with lastSeq -1', async () => {
      const store = await make();
      const id = uniqueId();
      expect(await store.info(id)).toBeUndefined();
      const { info } = await store.open(id, 'create');
      expect(info).toEqual({ streamId: id, status: 'open', lastSeq: -1 });
      expect(await store.info(id)).toEqual(info);
    });

    it('appends in order and reads any range', async () => {
      const store = await make();
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      expect(await store.append(id, lease, 0, ['a', 'b'])).toEqual({ lastSeq: 1 });
      expect(await store.append(id, lease, 2, ['c'])).toEqual({ lastSeq: 2 });
      expect(await store.read(id, 0, 100)).toEqual(['a', 'b', 'c']);
      expect(await store.read(id, 1, 1)).toEqual(['b']);
      expect(await store.read(id, 3, 10)).toEqual([]);
      expect(await store.read('missing-stream', 0, 10)).toEqual([]);
    });

    it('drops a resend of stored chunks and keeps the new tail of an overlapping frame', async () => {
      const store = await make();
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a', 'b', 'c']);
      expect(await store.append(id, lease, 1, ['b', 'c'])).toEqual({ lastSeq: 2 });
      expect(await store.append(id, lease, 2, ['c', 'd'])).toEqual({ lastSeq: 3 });
      expect(await store.read(id, 0, 100)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('refuses a gap with SEQ_GAP and stores nothing of it', async () => {
      const store = await make();
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      await expectCode(store.append(id, lease, 2, ['c']), 'SEQ_GAP');
      expect(await store.read(id, 0, 100)).toEqual(['a']);
    });

    it('create refuses an existing id; overwrite starts empty; attach re-attaches an open stream', async () => {
      const store = await make();
      const id = uniqueId();
      const first = await store.open(id, 'create');
      await store.append(id, first.lease, 0, ['a']);
      await expectCode(store.open(id, 'create'), 'STREAM_EXISTS');
      const attached = await store.open(id, 'attach');
      expect(attached.info.lastSeq).toBe(0);
      const overwritten = await store.open(id, 'overwrite');
      expect(overwritten.info).toEqual({ streamId: id, status: 'open', lastSeq: -1 });
      expect(await store.read(id, 0, 10)).toEqual([]);
    });

    it('a resume with an openId attaches only to the stream opened with that openId', async () => {
      const store = await make();
      const id = uniqueId();
      const first = await store.open(id, 'create', 'producer-a');
      await store.append(id, first.lease, 0, ['a']);
      // The same producer again (a reconnect, another relay): re-attached where the store is.
      expect((await store.open(id, 'resume', 'producer-a')).info.lastSeq).toBe(0);
      // Another producer whose own first open was lost, reusing the id: refused as a create would be.
      await expectCode(store.open(id, 'resume', 'producer-b'), 'STREAM_EXISTS');
      // Without an openId (older producers), a resume attaches as before.
      expect((await store.open(id, 'resume')).info.lastSeq).toBe(0);
      // A stream kept without an openId is nobody's to resume with one.
      const anonymous = uniqueId();
      await store.open(anonymous, 'attach');
      await expectCode(store.open(anonymous, 'resume', 'producer-a'), 'STREAM_EXISTS');
      // A resume that finds nothing creates the stream with its openId; an overwrite takes the new one.
      const missing = uniqueId();
      expect((await store.open(missing, 'resume', 'producer-c')).info.lastSeq).toBe(-1);
      expect((await store.open(missing, 'resume', 'producer-c')).info.lastSeq).toBe(-1);
      await store.open(missing, 'overwrite', 'producer-d');
      await expectCode(store.open(missing, 'resume', 'producer-c'), 'STREAM_EXISTS');
      expect((await store.open(missing, 'resume', 'producer-d')).info.status).toBe('open');
    });

    it('fences an older lease with LEASE_LOST', async () => {
      const store = await make();
      const id = uniqueId();
      const first = await store.open(id, 'create');
      const second = await store.open(id, 'resume');
      expect(second.lease).not.toBe(first.lease);
      await expectCode(store.append(id, first.lease, 0, ['a']), 'LEASE_LOST');
      await expectCode(store.end(id, first.lease, 'completed'), 'LEASE_LOST');
      await store.append(id, second.lease, 0, ['a']);
      expect(await store.read(id, 0, 10)).toEqual(['a']);
    });

    it('ends with a reason; a retried end is idempotent; nothing can follow', async () => {
      const store = await make();
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      const info = await store.end(id, lease, 'completed', 0);
      expect(info).toEqual({ streamId: id, status: 'ended', lastSeq: 0, endReason: 'completed' });
      expect(await store.end(id, lease, 'completed', 0)).toEqual(info);
      await expectCode(store.end(id, lease, 'producer-error'), 'STREAM_ENDED');
      await expectCode(store.append(id, lease, 1, ['b']), 'STREAM_ENDED');
      expect(await store.append(id, lease, 0, ['a'])).toEqual({ lastSeq: 0 }); // a late resend is harmless
      await expectCode(store.open(id, 'attach'), 'STREAM_ENDED');
      expect((await store.open(id, 'resume')).info.status).toBe('ended');
    });

    it('refuses an end whose lastSeq does not match the stored one', async () => {
      const store = await make();
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a', 'b']);
      await expectCode(store.end(id, lease, 'completed', 5), 'SEQ_GAP');
      expect((await store.info(id))?.status).toBe('open');
    });

    it('writing to a missing stream is STREAM_NOT_FOUND', async () => {
      const store = await make();
      await expectCode(store.append(uniqueId(), 1, 0, ['a']), 'STREAM_NOT_FOUND');
      await expectCode(store.end(uniqueId(), null, 'completed'), 'STREAM_NOT_FOUND');
    });

    it('notifies subscribers after storing, with only the new part of a frame', async () => {
      const store = await make();
      const id = uniqueId();
      const events: StoreEvent[] = [];
      const unsubscribe = store.subscribe(id, (event) => events.push(event));
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a', 'b']);
      await store.append(id, lease, 1, ['b', 'c']);
      await store.end(id, lease, 'completed');
      for (let attempt = 0; attempt < 100 && events.length < 3; attempt++) await sleep(10);
      expect(events).toEqual([
        { type: 'chunks', streamId: id, seq: 0, data: ['a', 'b'] },
        { type: 'chunks', streamId: id, seq: 2, data: ['c'] },
        { type: 'end', streamId: id, info: { streamId: id, status: 'ended', lastSeq: 2, endReason: 'completed' } },
      ]);
      unsubscribe();
    });

    it('ends an open stream with no write for inactivityTimeout', async () => {
      const store = await make({ inactivityTimeoutMs: 150, ttlMs: 60_000 });
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      const deadline = Date.now() + 5_000;
      let info = await store.info(id);
      while (info?.status === 'open' && Date.now() < deadline) {
        await sleep(25);
        info = await store.info(id);
      }
      expect(info).toEqual({ streamId: id, status: 'ended', lastSeq: 0, endReason: 'inactivity-timeout' });
    });

    it('forgets a stream ttl after its last write, and not before', async () => {
      // The "not before" check comes 600 ms after the end, 1.4 s before the ttl: room for a busy machine.
      const store = await make({ ttlMs: 2_000, inactivityTimeoutMs: 60_000 });
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      await store.end(id, lease, 'completed');
      await sleep(600);
      expect((await store.info(id))?.status).toBe('ended');
      const deadline = Date.now() + 10_000;
      while ((await store.info(id)) !== undefined && Date.now() < deadline) await sleep(50);
      expect(await store.info(id)).toBeUndefined();
      expect(await store.read(id, 0, 10)).toEqual([]);
    });

    it('create stores metadata, chunks and an end at once; a second create changes nothing', async () => {
      const store = await make();
      const id = uniqueId();
      const events: StoreEvent[] = [];
      const unsubscribe = store.subscribe(id, (event) => events.push(event));
      const first = await store.create(id, { metadata: { contentType: 'text/plain' }, data: ['a', 'b'], end: 'completed' });
      expect(first).toEqual({
        created: true,
        info: { streamId: id, status: 'ended', lastSeq: 1, endReason: 'completed' },
        metadata: { contentType: 'text/plain' },
      });
      const again = await store.create(id, { metadata: { contentType: 'application/json' }, data: ['x'] });
      expect(again).toEqual({ ...first, created: false });
      expect(await store.read(id, 0, 10)).toEqual(['a', 'b']);
      for (let attempt = 0; attempt < 100 && events.length < 2; attempt++) await sleep(10);
      expect(events.map((event) => event.type)).toEqual(['chunks', 'end']);
      unsubscribe();
      const empty = uniqueId();
      expect((await store.create(empty, { metadata: {} })).info).toEqual({ streamId: empty, status: 'open', lastSeq: -1 });
      // A producer attaches to a created stream with open().
      const { lease } = await store.open(empty, 'attach');
      expect(await store.append(empty, lease, 0, ['p'])).toEqual({ lastSeq: 0 });
    });

    it('describe, setMetadata and incrementMetadata keep string fields beside a stream', async () => {
      const store = await make();
      const id = uniqueId();
      expect(await store.describe(id)).toBeUndefined();
      expect(await store.setMetadata(id, { a: '1' })).toBe(false);
      expect(await store.incrementMetadata(id, 'refs', 1)).toBeUndefined();
      expect(await store.describe(id)).toBeUndefined(); // nothing was created by the refused calls
      await store.create(id, { metadata: { a: '1', b: '2' } });
      expect(await store.setMetadata(id, { a: 'one', b: null, c: '3' })).toBe(true);
      expect(await store.incrementMetadata(id, 'refs', 2)).toBe(2);
      expect(await store.incrementMetadata(id, 'refs', -1)).toBe(1);
      expect(await store.describe(id)).toEqual({
        info: { streamId: id, status: 'open', lastSeq: -1 },
        metadata: { a: 'one', c: '3', refs: '1' },
      });
    });

    it('appendAtTail appends after whatever is stored and takes the stream from a producer lease', async () => {
      const store = await make();
      const id = uniqueId();
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      const result = await store.appendAtTail(id, { data: ['b', 'c'], metadata: { touched: '1' } });
      expect(result).toEqual({ status: 'appended', info: { streamId: id, status: 'open', lastSeq: 2 }, firstSeq: 1 });
      await expectCode(store.append(id, lease, 3, ['d']), 'LEASE_LOST');
      expect(await store.read(id, 0, 10)).toEqual(['a', 'b', 'c']);
      expect((await store.describe(id))?.metadata).toEqual({ touched: '1' });
      await expectCode(store.appendAtTail(uniqueId(), { data: ['x'] }), 'STREAM_NOT_FOUND');
    });

    it('appendAtTail refuses a writer sequence that does not grow, storing nothing', async () => {
      const store = await make();
      const id = uniqueId();
      await store.create(id, { metadata: {} });
      expect((await store.appendAtTail(id, { data: ['a'], writerSeq: '2' })).status).toBe('appended');
      expect(await store.appendAtTail(id, { data: ['b'], writerSeq: '10' })).toEqual({
        status: 'writer-seq',
        info: { streamId: id, status: 'open', lastSeq: 0 },
        lastWriterSeq: '2',
      });
      expect((await store.appendAtTail(id, { data: ['c'], writerSeq: '2' })).status).toBe('writer-seq');
      expect((await store.appendAtTail(id, { data: ['d'], writerSeq: '3' })).status).toBe('appended');
      expect(await store.read(id, 0, 10)).toEqual(['a', 'd']);
    });

    it('appendAtTail fences idempotent producers by epoch and seq', async () => {
      const store = await make();
      const id = uniqueId();
      await store.create(id, { metadata: {} });
      const send = (data: string, epoch: number, seq: number) => store.appendAtTail(id, { data: [data], producer: { id: 'p', epoch, seq } });
      expect((await send('a', 0, 1)).status).toBe('producer-gap'); // a new producer starts at 0
      expect((await send('a', 0, 0)).status).toBe('appended');
      expect((await send('b', 0, 1)).status).toBe('appended');
      expect(await send('b', 0, 1)).toMatchObject({ status: 'duplicate', producerSeq: 1 });
      expect(await send('a', 0, 0)).toMatchObject({ status: 'duplicate', producerSeq: 1 });
      expect(await send('x', 0, 5)).toMatchObject({ status: 'producer-gap', expectedSeq: 2 });
      expect((await send('x', 1, 3)).status).toBe('epoch-seq');
      expect((await send('c', 1, 0)).status).toBe('appended');
      expect(await send('z', 0, 2)).toMatchObject({ status: 'stale-epoch', currentEpoch: 1 });
      expect((await store.appendAtTail(id, { data: ['q'], producer: { id: 'other', epoch: 0, seq: 0 } })).status).toBe('appended');
      expect(await store.read(id, 0, 10)).toEqual(['a', 'b', 'c', 'q']);
    });

    it('appendAtTail ends atomically with the last data; only the ending producer tuple is a duplicate after', async () => {
      const store = await make();
      const id = uniqueId();
      await store.create(id, { metadata: {} });
      const events: StoreEvent[] = [];
      const unsubscribe = store.subscribe(id, (event) => events.push(event));
      const last = await store.appendAtTail(id, { data: ['end'], end: 'completed', producer: { id: 'p', epoch: 0, seq: 0 } });
      expect(last).toEqual({ status: 'appended', info: { streamId: id, status: 'ended', lastSeq: 0, endReason: 'completed' }, firstSeq: 0 });
      expect((await store.appendAtTail(id, { data: ['end'], end: 'completed', producer: { id: 'p', epoch: 0, seq: 0 } })).status).toBe('duplicate');
      expect((await store.appendAtTail(id, { data: ['more'], producer: { id: 'p', epoch: 0, seq: 1 } })).status).toBe('ended');
      expect((await store.appendAtTail(id, { data: [], end: 'completed' })).status).toBe('ended');
      for (let attempt = 0; attempt < 100 && events.length < 2; attempt++) await sleep(10);
      expect(events).toEqual([
        { type: 'chunks', streamId: id, seq: 0, data: ['end'] },
        { type: 'end', streamId: id, info: { streamId: id, status: 'ended', lastSeq: 0, endReason: 'completed' } },
      ]);
      unsubscribe();
      // A close without data.
      const closeOnly = uniqueId();
      await store.create(closeOnly, { metadata: {} });
      expect(await store.appendAtTail(closeOnly, { data: [], end: 'completed' })).toMatchObject({ status: 'appended', info: { status: 'ended', lastSeq: -1 } });
    });

    it('delete removes a stream with its chunks and metadata; the id can be created again', async () => {
      const store = await make();
      const id = uniqueId();
      await store.create(id, { metadata: { a: '1' }, data: ['a', 'b'] });
      expect(await store.delete(id)).toBe(true);
      expect(await store.delete(id)).toBe(false);
      expect(await store.info(id)).toBeUndefined();
      expect(await store.describe(id)).toBeUndefined();
      expect(await store.read(id, 0, 10)).toEqual([]);
      const again = await store.create(id, { metadata: {}, data: ['new'] });
      expect(again.created).toBe(true);
      expect(await store.read(id, 0, 10)).toEqual(['new']);
    });

    it('reports health', async () => {
      const store = await make();
      expect((await store.health()).status).toBe('ok');
    });
  });
}
