// Reading whole streams from a real relay: readers that join before, during and after the stream,
// readers that start mid-stream, and the iteration's end.
import { describe, expect, it } from 'vitest';
import { type ReaderStatus, streamstraightClient } from '../src/index.js';
import { expectedText, token, writeRange } from './support/mux-producer.js';
import { type RelayFixture, until } from './support/relay-fixture.js';
import { readAll, startRelayWithProducer, useCleanups } from './support/test-scope.js';

const defer = useCleanups();

const setup = () => startRelayWithProducer(defer);

function reader(fixture: RelayFixture, streamId: string, extra: { fromSeq?: number; waitForStreamMs?: number; onStatus?: (status: ReaderStatus) => void } = {}) {
  const created = streamstraightClient<string>({ baseUrl: fixture.url, fetchToken: () => fixture.mint([streamId]) }, { streamId, ...extra });
  defer(() => created.close());
  return created;
}


describe('reading a stream', () => {
  it('delivers a 5,000-chunk stream complete and in order to readers that joined before, during and after it', async () => {
    const { fixture, producer } = await setup();
    const streamId = 'chat:5000';
    const total = 5_000;

    const statuses: ReaderStatus[] = [];
    const before = reader(fixture, streamId, { waitForStreamMs: 10_000, onStatus: (status) => statuses.push(status) });
    const beforeText = readAll(before);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the reader is polling for the stream
    expect(before.status).toBe('connecting');

    await producer.open(streamId);
    await until(() => before.status === 'live', 5_000, 'the early reader to find the stream');
    await writeRange(producer, streamId, 0, 2_000);
    const during = reader(fixture, streamId);
    const duringText = readAll(during);
    await until(() => during.status === 'live', 5_000, 'the second reader to subscribe');
    expect(during.lastSeq).toBeLessThan(2_000);
    await writeRange(producer, streamId, 2_000, total, 64, 1);
    await producer.end(streamId);
    const after = reader(fixture, streamId);
    const afterText = readAll(after);

    const expected = expectedText(0, total);
    expect(await beforeText).toBe(expected);
    expect(await duringText).toBe(expected);
    expect(await afterText).toBe(expected);
    for (const each of [before, during, after]) {
      expect(each.lastSeq).toBe(total - 1);
      expect(each.status).toBe('ended');
      expect(each.endReason).toBe('completed');
      expect(each.error).toBeUndefined();
    }
    expect(statuses).toEqual(['live', 'ended']); // 'connecting' is the initial status
    // Each reader was sent each chunk once: no replays.
    expect(fixture.chunksSent.get(streamId)).toBe(3 * total);
  });

  it('starts at fromSeq, on an ended stream and on a live one', async () => {
    const { fixture, producer } = await setup();
    await producer.open('s');
    await writeRange(producer, 's', 0, 3_000);
    const live = reader(fixture, 's', { fromSeq: 1_234 });
    const liveText = readAll(live);
    await until(() => live.status === 'live', 5_000, 'live');
    await writeRange(producer, 's', 3_000, 4_000);
    await producer.end('s');
    expect(await liveText).toBe(expectedText(1_234, 4_000));
    expect(live.lastSeq).toBe(3_999);

    const ended = reader(fixture, 's', { fromSeq: 3_990 });
    expect(await readAll(ended)).toBe(expectedText(3_990, 4_000));
    const beyond = reader(fixture, 's', { fromSeq: 10_000 });
    expect(await readAll(beyond)).toBe('');
    expect(beyond.endReason).toBe('completed');
    expect(beyond.lastSeq).toBe(9_999);
  });

  it('waits for chunks when fromSeq is beyond the live tail', async () => {
    const { fixture, producer } = await setup();
    await producer.open('ahead');
    await writeRange(producer, 'ahead', 0, 10);
    const ahead = reader(fixture, 'ahead', { fromSeq: 50 });
    const text = readAll(ahead);
    await until(() => ahead.status === 'live', 5_000, 'live');
    await writeRange(producer, 'ahead', 10, 100);
    await producer.end('ahead');
    expect(await text).toBe(expectedText(50, 100));
  });

  it('ends an empty stream at once', async () => {
    const { fixture, producer } = await setup();
    await producer.open('empty');
    await producer.end('empty');
    const empty = reader(fixture, 'empty');
    expect(await readAll(empty)).toBe('');
    expect(empty.lastSeq).toBe(-1);
    expect(empty.endReason).toBe('completed');
  });

  it('decodes with JSON.parse by default and with a custom decoder when given', async () => {
    const { fixture, producer } = await setup();
    await producer.open('objects');
    await producer.write('objects', [JSON.stringify({ type: 'text', value: 'a' }), JSON.stringify({ type: 'text', value: 'b' })]);
    await producer.end('objects');
    const parsed = streamstraightClient<{ value: string }>({ baseUrl: fixture.url, token: await fixture.mint(['objects']) }, { streamId: 'objects' });
    defer(() => parsed.close());
    const values: string[] = [];
    for await (const chunk of parsed) values.push(chunk.value);
    expect(values).toEqual(['a', 'b']);

    const raw = streamstraightClient({ baseUrl: fixture.url, token: await fixture.mint(['objects']), decoder: (data) => data }, { streamId: 'objects' });
    defer(() => raw.close());
    const strings: string[] = [];
    for await (const chunk of raw) strings.push(chunk);
    expect(strings).toEqual(['{"type":"text","value":"a"}', '{"type":"text","value":"b"}']);
  });

  it('throws a typed error for a chunk the decoder cannot read, after the chunks before it', async () => {
    const { fixture, producer } = await setup();
    await producer.open('bad-json');
    await producer.write('bad-json', [token(0), 'not json', token(2)]);
    await producer.end('bad-json');
    const bad = reader(fixture, 'bad-json');
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of bad) seen.push(chunk);
      })(),
    ).rejects.toMatchObject({ name: 'StreamstraightError', code: 'BAD_REQUEST', message: expect.stringContaining('Chunk 1') });
    expect(seen).toEqual(['t0 ']);
    expect(bad.lastSeq).toBe(0);
    expect(bad.status).toBe('closed');
  });

  it('keeps a relay base URL path prefix out of the Socket.IO namespace', async () => {
    const { fixture, producer } = await setup();
    await producer.open('slash');
    await producer.write('slash', [token(0)]);
    await producer.end('slash');
    // A trailing slash is the common case; the namespace must stay "/".
    const slash = streamstraightClient<string>({ baseUrl: `${fixture.url}/`, token: await fixture.mint(['slash']) }, { streamId: 'slash' });
    defer(() => slash.close());
    expect(await readAll(slash)).toBe('t0 ');
  });

  it('reads over HTTP long-polling when asked to', async () => {
    const { fixture, producer } = await setup();
    await producer.open('polling');
    await writeRange(producer, 'polling', 0, 300);
    await producer.end('polling');
    const polling = streamstraightClient<string>({ baseUrl: fixture.url, token: await fixture.mint(['polling']), transports: ['polling'] }, { streamId: 'polling' });
    defer(() => polling.close());
    expect(await readAll(polling)).toBe(expectedText(0, 300));
  });
});
