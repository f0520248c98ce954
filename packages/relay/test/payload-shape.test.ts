// Payload shape limits before work: payloads nested 100,000 levels deep — in the handshake and in
// events of both roles — are refused as BAD_REQUEST, with no stack overflow anywhere (the relay's
// log stays clean), while a healthy stream streams on. The raw packets travel over engine.io's
// polling transport with fetch: socket.io-client itself cannot even encode such a payload.
import { mintClientToken } from '@ss/core';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { RelayOptions } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectReader, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';

const API_KEY = 'test-key-payload-shape';
const later = useCleanups();
const track = <T extends Socket>(socket: T): T => later(socket, close);
const DEPTH = 100_000;
const deepArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;

/** An engine.io session over long-polling, speaking raw Socket.IO packets. */
async function pollingSession(url: string, headers: Record<string, string> = {}) {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base, { headers })).text();
  const { sid } = JSON.parse(open.slice(1)) as { sid: string };
  const endpoint = `${base}&sid=${sid}`;
  return {
    /** Sends one raw packet (engine.io message, Socket.IO text). */
    async send(packet: string): Promise<void> {
      const response = await fetch(endpoint, { method: 'POST', body: packet, headers });
      expect(response.status).toBe(200);
      await response.text();
    },
    /** The packets of the next poll. */
    async poll(): Promise<string[]> {
      // Pings (engine.io "2") and no-ops ("6") are not what the tests wait for.
      return (await (await fetch(endpoint, { headers })).text()).split('\x1e').filter((packet) => packet !== '2' && packet !== '6');
    },
  };
}

describe('payloads nested 100,000 levels deep', () => {
  it('are refused as BAD_REQUEST in handshakes and events, with no stack overflow, while a healthy stream streams on', async () => {
    const logged: string[] = [];
    const options: RelayOptions = { apiKeys: [API_KEY], log: (message, error) => logged.push(`${message} ${error instanceof Error ? `${error.name}: ${error.message}` : String(error ?? '')}`) };
    const { relay, url } = await startTestRelay(later, options);

    const healthy = track(await connectMuxProducer(url, API_KEY));
    await healthy.emitWithAck('mux:open', { streamId: 'healthy' });
    const reader = track(await connectReader(url, API_KEY, ['healthy']));
    const healthyRead = readToEnd(reader, 'healthy');
    const healthyWrite = (async () => {
      for (let seq = 0; seq < 1_000; seq += 10) {
        await healthy.emitWithAck('mux:chunks', { streamId: 'healthy', seq, data: Array.from({ length: 10 }, (_, offset) => `"${seq + offset}"`) });
      }
      await healthy.emitWithAck('mux:end', { streamId: 'healthy', reason: 'completed', lastSeq: 999 });
    })();

    // Handshakes: a reader's and a producer's auth nested too deep.
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['x'] });
    const readerHandshake = await pollingSession(url);
    await readerHandshake.send(`40{"role":"consumer","token":"${token}","subscribe":${deepObject}}`);
    const [refusedReader] = await readerHandshake.poll();
    expect(refusedReader).toMatch(/^44\{/);
    expect(JSON.parse(refusedReader!.slice(2))).toMatchObject({ data: { code: 'BAD_REQUEST', message: expect.stringContaining('nested deeper than 16 levels') } });
    const producerHandshake = await pollingSession(url, { Authorization: `Bearer ${API_KEY}` });
    await producerHandshake.send(`40{"role":"producer","version":"stream-v1","extensions":${deepArray}}`);
    expect(JSON.parse((await producerHandshake.poll())[0]!.slice(2))).toMatchObject({ data: { code: 'BAD_REQUEST' } });

    // Events of a connected producer: with an ack (answered in it) and without (a stream:error).
    const producer = await pollingSession(url, { Authorization: `Bearer ${API_KEY}` });
    await producer.send('40{"role":"producer","version":"stream-v1","extensions":["mux"]}');
    expect((await producer.poll())[0]).toMatch(/^40\{"sid"/);
    await producer.send(`421["mux:open",{"streamId":${deepObject}}]`);
    await producer.send(`42["mux:chunks",${deepArray}]`);
    await producer.send(`422["mux:batch",{"frames":[${'1,'.repeat(5_000)}1]}]`);
    const answers: string[] = [];
    while (answers.length < 3) answers.push(...(await producer.poll()).filter((packet) => !packet.startsWith('42["mux:hello"')));
    const ack = answers.find((packet) => packet.startsWith('431'))!;
    expect(JSON.parse(ack.slice(3))).toEqual([{ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('"mux:open" was refused: nested deeper than 16 levels') } }]);
    const event = answers.find((packet) => packet.startsWith('42['))!;
    expect(JSON.parse(event.slice(2))).toEqual(['stream:error', { code: 'BAD_REQUEST', message: expect.stringContaining('nested deeper') }]);
    const batch = answers.find((packet) => packet.startsWith('432'))!;
    expect(JSON.parse(batch.slice(3))).toEqual([{ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('an array of 5001 entries (at most 1024)') } }]);

    // A reader's events too.
    const readerSession = await pollingSession(url);
    await readerSession.send(`40{"role":"consumer","token":"${token}"}`);
    expect((await readerSession.poll())[0]).toMatch(/^40\{"sid"/);
    await readerSession.send(`423["consumer:subscribe",${deepObject}]`);
    expect(JSON.parse((await readerSession.poll())[0]!.slice(3))).toEqual([{ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }]);

    await healthyWrite;
    const result = await healthyRead;
    expect(result.data).toEqual(Array.from({ length: 1_000 }, (_, index) => `"${index}"`));
    expect(result.end).toEqual({ reason: 'completed', lastSeq: 999 });
    expect(logged.filter((line) => /Maximum call stack|RangeError|unexpected error/.test(line))).toEqual([]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ss_relay_limit_refusals_total\{limit="maxPayloadDepth"\} 3$/m);
    expect(metrics).toMatch(/^ss_relay_limit_refusals_total\{limit="maxPayloadEntries"\} 1$/m);
    expect(relay.io.engine.clientsCount).toBeGreaterThanOrEqual(3);
  });
});
