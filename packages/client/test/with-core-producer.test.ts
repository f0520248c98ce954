// The reader against the real producer of @ss/core: its default encoder (JSON.stringify) pairs with
// the reader's default decoder, a producer-side failure reaches the reader as a typed error, and a
// reader's cancel aborts the producer's signal.
import { streamstraightServer } from '@ss/core';
import { describe, expect, it } from 'vitest';
import { streamstraightClient } from '../src/index.js';
import { API_KEY, type RelayFixture, startRelay, until } from './support/relay-fixture.js';
import { useCleanups } from './support/test-scope.js';

const defer = useCleanups();

async function setup(): Promise<RelayFixture> {
  const fixture = await startRelay();
  defer(() => fixture.close());
  return fixture;
}

interface Part {
  type: 'text-delta';
  index: number;
  delta: string;
}

async function* parts(count: number, signal?: AbortSignal): AsyncGenerator<Part> {
  for (let index = 0; index < count; index++) {
    if (signal?.aborted) return;
    if (index % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    yield { type: 'text-delta', index, delta: `w${index} ` };
  }
}

describe('with the @ss/core producer', () => {
  it('reads what streamstraightServer wrote, decoded as the objects it was given', async () => {
    const fixture = await setup();
    const server = await streamstraightServer({ apiKey: API_KEY, baseUrl: fixture.url }, { streamId: 'core-e2e' });
    defer(() => server.disconnect());
    const reader = streamstraightClient<Part>(
      { baseUrl: fixture.url, fetchToken: () => fixture.mint(['core-e2e']) },
      { streamId: 'core-e2e', waitForStreamMs: 5_000 },
    );
    defer(() => reader.close());
    const received: Part[] = [];
    const reading = (async () => {
      for await (const part of reader) received.push(part);
    })();
    await server.stream(parts(2_000));
    await reading;
    expect(received).toHaveLength(2_000);
    expect(received.every((part, index) => part.index === index && part.delta === `w${index} `)).toBe(true);
    expect(reader.endReason).toBe('completed');
  });

  it('a source that throws reaches the reader as PRODUCER_ERROR after the chunks before it', async () => {
    const fixture = await setup();
    const server = await streamstraightServer({ apiKey: API_KEY, baseUrl: fixture.url }, { streamId: 'core-fail' });
    defer(() => server.disconnect());
    async function* failing() {
      yield 'a';
      yield 'b';
      throw new Error('model overloaded');
    }
    await expect(server.stream(failing())).rejects.toMatchObject({ code: 'PRODUCER_ERROR' });
    const reader = streamstraightClient<string>({ baseUrl: fixture.url, token: await fixture.mint(['core-fail']) }, { streamId: 'core-fail' });
    defer(() => reader.close());
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of reader) received.push(chunk);
      })(),
    ).rejects.toMatchObject({ code: 'PRODUCER_ERROR' });
    expect(received).toEqual(['a', 'b']);
    expect(reader.endReason).toBe('producer-error');
  });

  it("a reader's cancel aborts the producer's signal and the read ends with reason cancelled", async () => {
    const fixture = await setup();
    const server = await streamstraightServer({ apiKey: API_KEY, baseUrl: fixture.url }, { streamId: 'core-cancel' });
    defer(() => server.disconnect());
    const reader = streamstraightClient<Part>(
      { baseUrl: fixture.url, fetchToken: () => fixture.mint(['core-cancel'], { cancel: true }) },
      { streamId: 'core-cancel', waitForStreamMs: 5_000 },
    );
    defer(() => reader.close());
    async function* endless(signal: AbortSignal) {
      for (let index = 0; !signal.aborted; index++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        yield { type: 'text-delta', index, delta: `w${index} ` } satisfies Part;
      }
    }
    const producing = server.stream(endless(server.signal));
    let count = 0;
    const reading = (async () => {
      for await (const _part of reader) count++;
    })();
    await until(() => count >= 20, 10_000, 'the first parts');
    await reader.cancel('stop button');
    await producing;
    await reading;
    expect(server.signal.aborted).toBe(true);
    expect(reader.endReason).toBe('cancelled');
    expect(reader.lastSeq).toBe(count - 1);
  });
});
