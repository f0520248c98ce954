// The writer's window limits and end reasons, against the stub relay (the full producer suite runs
// against the real relay in packages/relay/test/producer.test.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type StubRelay, startStubRelay } from '../../test/support/stub-relay.js';
import { streamstraightServer } from './streamstraight-server.js';

const relays: StubRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

describe('StreamWriter', () => {
  it('waits in send() once the unacknowledged chunks reach windowBytes', async () => {
    const relay = await startStubRelay();
    relays.push(relay);
    relay.holdAcks = true;
    const server = await streamstraightServer({ apiKey: 'k', baseUrl: relay.url, windowBytes: 30 }, { streamId: 'bytes', encoder: (chunk: string) => chunk });
    const writer = server.streamWriter<string>();
    await writer.send('0123456789'); // 10 bytes
    await writer.send('0123456789'); // 20
    await writer.send('0123456789'); // 30: full
    let accepted = false;
    const fourth = writer.send('x').then(() => {
      accepted = true;
    });
    await sleep(50);
    expect(accepted).toBe(false);
    relay.releaseAcks();
    await fourth;
    await writer.close();
    expect(relay.streams.get('bytes')?.chunks).toEqual(['0123456789', '0123456789', '0123456789', 'x']);
    await server.disconnect();
  });

  it('close() ends with the reason given: cancelled or producer-error', async () => {
    const relay = await startStubRelay();
    relays.push(relay);
    for (const reason of ['cancelled', 'producer-error'] as const) {
      const server = await streamstraightServer({ apiKey: 'k', baseUrl: relay.url }, { streamId: `end-${reason}` });
      const writer = server.streamWriter();
      await writer.send('a');
      await writer.close(reason);
      expect(relay.streams.get(`end-${reason}`)?.end).toEqual({ reason, lastSeq: 0 });
      await server.disconnect();
    }
  });
});
