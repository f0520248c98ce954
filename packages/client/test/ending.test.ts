// How a read ends: completed, cancelled by a reader, ended badly by the producer, a missing stream,
// and a reader closed by its consumer (close(), break, an AbortSignal, `await using`).
import { describe, expect, it } from 'vitest';
import { type StreamstraightClientOptions, type ReaderStatus, type StreamOptions, StreamstraightError, streamstraightClient } from '../src/index.js';
import { expectedText, token, writeRange } from './support/mux-producer.js';
import { type RelayFixture, sleep, type startRelay, until } from './support/relay-fixture.js';
import { startRelayWithProducer, useCleanups } from './support/test-scope.js';

const defer = useCleanups();

const setup = (options: Parameters<typeof startRelay>[0] = {}) => startRelayWithProducer(defer, options);

function reader(fixture: RelayFixture, stream: StreamOptions, options: Partial<StreamstraightClientOptions<string>> & { cancel?: boolean } = {}) {
  const { cancel = false, ...rest } = options;
  const created = streamstraightClient<string>({ baseUrl: fixture.url, fetchToken: () => fixture.mint([stream.streamId], { cancel }), ...rest }, stream);
  defer(() => created.close());
  return created;
}

async function collect(iterable: AsyncIterable<string>): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const chunk of iterable) text += chunk;
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

/** Reader connections the relay still holds. */
function readerSockets(fixture: RelayFixture): number {
  return [...fixture.relay.io.sockets.sockets.values()].filter((socket) => (socket.handshake.auth as { role?: string }).role === 'consumer').length;
}

describe('how a read ends', () => {
  it('throws PRODUCER_ERROR after the last chunk when the producer ends with producer-error', async () => {
    const { fixture, producer } = await setup();
    await producer.open('failing');
    const failing = reader(fixture, { streamId: 'failing' });
    const result = collect(failing);
    await writeRange(producer, 'failing', 0, 10);
    await producer.end('failing', 'producer-error');
    const { text, error } = await result;
    expect(text).toBe(expectedText(0, 10));
    expect(StreamstraightError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'PRODUCER_ERROR', message: expect.stringContaining('producer-error') });
    expect((error as StreamstraightError).message).toContain('after chunk 9');
    expect(failing.endReason).toBe('producer-error');
    expect(failing.status).toBe('ended');
    expect(failing.error).toBe(error);
    expect(failing.lastSeq).toBe(9);
  });

  it('throws PRODUCER_ERROR when the producer vanishes and does not come back', async () => {
    const { fixture, producer } = await setup({ producerGraceMs: 100 });
    await producer.open('vanished');
    const vanished = reader(fixture, { streamId: 'vanished' });
    const result = collect(vanished);
    await writeRange(producer, 'vanished', 0, 5);
    producer.close();
    const { text, error } = await result;
    expect(text).toBe(expectedText(0, 5));
    expect(error).toMatchObject({ code: 'PRODUCER_ERROR', message: expect.stringContaining('producer-disconnected') });
    expect(vanished.endReason).toBe('producer-disconnected');
  });

  it('throws PRODUCER_ERROR for a stream ended by the inactivity timeout, even when it joins after the end', async () => {
    const { fixture, producer } = await setup({ inactivityTimeoutMs: 200 });
    await producer.open('idle');
    await writeRange(producer, 'idle', 0, 3);
    await sleep(600);
    const idle = reader(fixture, { streamId: 'idle' });
    const { text, error } = await collect(idle);
    expect(text).toBe(expectedText(0, 3));
    expect(error).toMatchObject({ code: 'PRODUCER_ERROR', message: expect.stringContaining('inactivity-timeout') });
    expect(idle.endReason).toBe('inactivity-timeout');
  });

  it('throws STREAM_NOT_FOUND for a stream that does not exist, by default at once', async () => {
    const { fixture } = await setup();
    const missing = reader(fixture, { streamId: 'missing' });
    const started = Date.now();
    await expect(missing.next()).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(missing.status).toBe('closed');
  });

  it('waits up to waitForStreamMs for a stream to appear, then throws STREAM_NOT_FOUND', async () => {
    const { fixture } = await setup();
    const missing = reader(fixture, { streamId: 'never', waitForStreamMs: 400 }, { retryBaseMs: 50 });
    const started = Date.now();
    await expect(missing.next()).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(fixture.subscribes.length).toBeGreaterThan(3);
  });

  it('cancel() reaches the producer; the read then ends normally with reason cancelled', async () => {
    const { fixture, producer } = await setup();
    await producer.open('stoppable');
    const stoppable = reader(fixture, { streamId: 'stoppable' }, { cancel: true });
    const result = collect(stoppable);
    await writeRange(producer, 'stoppable', 0, 5);
    await until(() => stoppable.lastSeq === 4, 5_000, 'the first chunks');
    await stoppable.cancel('user pressed stop');
    // The relay acks the reader and tells the producer on another connection: it arrives there on its own time.
    await until(() => producer.cancels.length > 0, 5_000, 'the cancel at the producer');
    expect(producer.cancels).toEqual([{ streamId: 'stoppable', reason: 'user pressed stop' }]);
    await producer.end('stoppable', 'cancelled');
    const { text, error } = await result;
    expect(error).toBeUndefined();
    expect(text).toBe(expectedText(0, 5));
    expect(stoppable.endReason).toBe('cancelled');
  });

  it('cancel() without the cancel scope rejects with FORBIDDEN and the read goes on', async () => {
    const { fixture, producer } = await setup();
    await producer.open('read-only');
    const readOnly = reader(fixture, { streamId: 'read-only' });
    const result = collect(readOnly);
    await until(() => readOnly.status === 'live', 5_000, 'live');
    await expect(readOnly.cancel()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(producer.cancels).toEqual([]);
    await writeRange(producer, 'read-only', 0, 3);
    await producer.end('read-only');
    expect(await result).toEqual({ text: expectedText(0, 3), error: undefined });
  });

  it('breaking out of for await disconnects from the relay', async () => {
    const { fixture, producer } = await setup();
    await producer.open('partial');
    await writeRange(producer, 'partial', 0, 100);
    const partial = reader(fixture, { streamId: 'partial' });
    let count = 0;
    for await (const _chunk of partial) {
      if (++count === 10) break;
    }
    expect(partial.lastSeq).toBe(9);
    expect(partial.status).toBe('closed');
    await until(() => readerSockets(fixture) === 0, 5_000, 'the relay to see the reader leave');
    expect(await partial.next()).toEqual({ done: true, value: undefined });
  });

  it('close() ends a waiting iteration at once and disconnects', async () => {
    const { fixture, producer } = await setup();
    await producer.open('waiting');
    const statuses: ReaderStatus[] = [];
    const waiting = reader(fixture, { streamId: 'waiting', onStatus: (status) => statuses.push(status) });
    const pending = waiting.next();
    await until(() => waiting.status === 'live', 5_000, 'live');
    waiting.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(statuses).toEqual(['live', 'closed']);
    await until(() => readerSockets(fixture) === 0, 5_000, 'the relay to see the reader leave');
    await producer.write('waiting', [token(0)]); // the relay has no reader to send it to
  });

  it('an AbortSignal closes the reader; `await using` closes it at the end of the scope', async () => {
    const { fixture, producer } = await setup();
    await producer.open('aborted');
    const controller = new AbortController();
    const aborted = reader(fixture, { streamId: 'aborted', signal: controller.signal });
    const result = collect(aborted);
    await until(() => aborted.status === 'live', 5_000, 'live');
    controller.abort();
    expect(await result).toEqual({ text: '', error: undefined });
    expect(aborted.status).toBe('closed');

    const preAborted = reader(fixture, { streamId: 'aborted', signal: AbortSignal.abort() });
    expect(preAborted.status).toBe('closed');
    expect(await preAborted.next()).toEqual({ done: true, value: undefined });

    {
      await using scoped = reader(fixture, { streamId: 'aborted' });
      await until(() => scoped.status === 'live', 5_000, 'live');
    }
    await until(() => readerSockets(fixture) === 0, 5_000, 'the relay to see the readers leave');
  });

  it('refuses bad options with typed errors', () => {
    expect(() => streamstraightClient({ baseUrl: 'http://127.0.0.1:1', token: 't' }, { streamId: 'bad id!' })).toThrow(
      expect.objectContaining({ code: 'INVALID_STREAM_ID' }),
    );
    expect(() => streamstraightClient({ baseUrl: 'http://127.0.0.1:1' }, { streamId: 'x' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => streamstraightClient({ baseUrl: 'http://127.0.0.1:1', token: 't' }, { streamId: 'x', fromSeq: -1 })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    expect(() => streamstraightClient({ baseUrl: 'not a url', token: 't' }, { streamId: 'x' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
