// Client tokens against a real relay: short-lived tokens are refreshed on reconnect, a refused token
// is replaced once, and a token for another stream is a typed FORBIDDEN.
import { describe, expect, it } from 'vitest';
import { startTcpProxy } from '../../relay/test/support/tcp-proxy.js';
import { type StreamReader, StreamstraightError, streamstraightClient } from '../src/index.js';
import { expectedText, token, writeRange } from './support/mux-producer.js';
import { type RelayFixture, sleep, type startRelay, subscribedSocket, until } from './support/relay-fixture.js';
import { readAll, startRelayWithProducer, useCleanups } from './support/test-scope.js';

const defer = useCleanups();

const setup = (options: Parameters<typeof startRelay>[0] = {}) => startRelayWithProducer(defer, options);

function track<T>(reader: StreamReader<T>): StreamReader<T> {
  defer(() => reader.close());
  return reader;
}


function counting(fixture: RelayFixture, streamIds: string[], expiresIn: string | number = '10m') {
  const calls = { count: 0 };
  const fetchToken = async () => {
    calls.count++;
    return fixture.mint(streamIds, { expiresIn });
  };
  return { calls, fetchToken };
}

describe('client tokens', () => {
  it('fetches a new token when the old one expired before a reconnect', async () => {
    const { fixture, producer } = await setup();
    const proxy = await startTcpProxy(fixture.port);
    defer(() => proxy.close());
    await producer.open('short');
    const { calls, fetchToken } = counting(fixture, ['short'], 2);
    const short = track(streamstraightClient<string>({ baseUrl: proxy.url, fetchToken, retryBaseMs: 20 }, { streamId: 'short' }));
    const text = readAll(short);
    await writeRange(producer, 'short', 0, 50);
    await until(() => short.lastSeq === 49, 5_000, 'the first chunks');
    expect(calls.count).toBe(1);
    await sleep(2_100); // the 2 s token has expired
    proxy.dropConnections();
    await until(() => short.status === 'live' && fixture.subscribes.length === 2, 5_000, 'the resume');
    expect(calls.count).toBe(2);
    await writeRange(producer, 'short', 50, 100);
    await producer.end('short');
    expect(await text).toBe(expectedText(0, 100));
    expect(fixture.subscribes.map((entry) => entry.fromSeq)).toEqual([0, 50]);
  });

  it('keeps a fresh token across reconnects', async () => {
    const { fixture, producer } = await setup();
    const proxy = await startTcpProxy(fixture.port);
    defer(() => proxy.close());
    await producer.open('fresh');
    const { calls, fetchToken } = counting(fixture, ['fresh']);
    const fresh = track(streamstraightClient<string>({ baseUrl: proxy.url, fetchToken, retryBaseMs: 20 }, { streamId: 'fresh' }));
    const text = readAll(fresh);
    for (let round = 0; round < 3; round++) {
      await writeRange(producer, 'fresh', round * 10, round * 10 + 10);
      await until(() => fresh.lastSeq === round * 10 + 9 && fresh.status === 'live', 5_000, 'chunks');
      proxy.dropConnections();
    }
    await producer.end('fresh');
    expect(await text).toBe(expectedText(0, 30));
    expect(calls.count).toBe(1);
  });

  it('replaces a token the relay refuses at connect, once', async () => {
    const { fixture, producer } = await setup();
    await producer.open('refused');
    await producer.write('refused', [token(0)]);
    await producer.end('refused');
    let calls = 0;
    const fetchToken = async () => (++calls === 1 ? 'not-a-jwt' : fixture.mint(['refused']));
    const refused = track(streamstraightClient<string>({ baseUrl: fixture.url, fetchToken }, { streamId: 'refused' }));
    expect(await readAll(refused)).toBe('t0 ');
    expect(calls).toBe(2);
  });

  it('gives up with UNAUTHORIZED when the new token is refused too', async () => {
    const { fixture } = await setup();
    let calls = 0;
    const bad = track(
      streamstraightClient({ baseUrl: fixture.url, fetchToken: async () => `bad-${++calls}` }, { streamId: 'whatever' }),
    );
    const error = await bad.next().catch((caught: unknown) => caught);
    expect(StreamstraightError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(calls).toBe(2);
    expect(bad.status).toBe('closed');
  });

  it('gives up at once with UNAUTHORIZED for a static token the relay refuses', async () => {
    const { fixture } = await setup();
    const bad = track(streamstraightClient({ baseUrl: fixture.url, token: 'nope' }, { streamId: 'whatever' }));
    await expect(bad.next()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('reconnects with a new token when the relay refuses an expired one on a live connection', async () => {
    const { fixture, producer } = await setup({ clockToleranceSeconds: 0 });
    await producer.open('expiring');
    const { calls, fetchToken } = counting(fixture, ['expiring'], 2);
    const expiring = track(streamstraightClient<string>({ baseUrl: fixture.url, fetchToken, retryBaseMs: 20 }, { streamId: 'expiring' }));
    const text = readAll(expiring);
    await writeRange(producer, 'expiring', 0, 5);
    await until(() => expiring.lastSeq === 4, 5_000, 'the first chunks');
    await sleep(2_100); // the token expired while connected
    // A gap makes the reader resubscribe on the same connection: the relay refuses the expired token.
    const socket = await subscribedSocket(fixture);
    socket.emit('stream:chunks', { streamId: 'expiring', seq: 9, data: [token(9)] });
    await until(() => fixture.subscribes.length === 3, 5_000, 'the refused resubscribe, then the one on a new connection');
    expect(calls.count).toBe(2);
    expect(fixture.subscribes.map((entry) => entry.fromSeq)).toEqual([0, 5, 5]);
    await writeRange(producer, 'expiring', 5, 10);
    await producer.end('expiring');
    expect(await text).toBe(expectedText(0, 10));
  });

  it('throws FORBIDDEN for a token scoped to another stream', async () => {
    const { fixture, producer } = await setup();
    await producer.open('mine');
    const { calls, fetchToken } = counting(fixture, ['someone-else']);
    const forbidden = track(streamstraightClient({ baseUrl: fixture.url, fetchToken }, { streamId: 'mine' }));
    const error = await forbidden.next().catch((caught: unknown) => caught);
    expect(StreamstraightError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('mine') });
    expect(forbidden.error).toBe(error);
    expect(forbidden.status).toBe('closed');
    expect(calls.count).toBe(1);
    expect(await forbidden.next()).toEqual({ done: true, value: undefined });
  });

  it('stops when fetchToken throws a non-retryable StreamstraightError, retries other failures', async () => {
    const { fixture, producer } = await setup();
    const denied = track(
      streamstraightClient(
        { baseUrl: fixture.url, fetchToken: async () => Promise.reject(new StreamstraightError('FORBIDDEN', 'Not your chat.')) },
        { streamId: 'denied' },
      ),
    );
    await expect(denied.next()).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'Not your chat.' });

    await producer.open('flaky');
    await producer.write('flaky', [token(0)]);
    await producer.end('flaky');
    let calls = 0;
    const flaky = track(
      streamstraightClient<string>(
        {
          baseUrl: fixture.url,
          retryBaseMs: 10,
          fetchToken: async () => {
            if (++calls < 3) throw new TypeError('fetch failed');
            return fixture.mint(['flaky']);
          },
        },
        { streamId: 'flaky' },
      ),
    );
    expect(await readAll(flaky)).toBe('t0 ');
    expect(calls).toBe(3);
  });
});
