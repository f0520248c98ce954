// The HTTP producer (POST /v1/streams/:id/open | chunks | end): idempotent batches with an
// explicit seq, gaps refused, oversized bodies 413, API-key auth — each bad input beside a
// healthy stream that stays intact.
import { mintClientToken } from '@ss/core';
import { describe, expect, it } from 'vitest';
import { useCleanups, close } from './support/cleanups.js';
import { expectConsecutive, readSse } from './support/sse-reader.js';
import { startTestRelay } from './support/test-relay.js';

const API_KEY = 'test-key-http-producer';
const later = useCleanups();

function post(url: string, path: string, body: unknown, apiKey: string | null = API_KEY): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  return fetch(`${url}/v1/streams/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function json(response: Response, status = 200): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, body }).toMatchObject({ status });
  return body;
}

async function expectError(response: Response, status: number, code: string, message: RegExp) {
  const body = (await json(response, status)) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
}

describe('HTTP producer', () => {
  it('opens, appends batches with explicit seq (a retried batch is stored once), ends; readers see each chunk once', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const opened = await json(await post(url, 'batch/open', { openId: 'open-1' }));
    expect(opened).toMatchObject({ info: { streamId: 'batch', status: 'open', lastSeq: -1 } });
    const lease = opened.lease as number;
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['batch'] });
    const read = later(readSse(`${url}/v1/streams/batch/events?token=${token}`), close);

    expect(await json(await post(url, 'batch/chunks', { lease, seq: 0, data: ['"a"', '"b"', '"c"'] }))).toEqual({ lastSeq: 2 });
    // The same batch again (a retry after a lost answer), and one that overlaps: nothing twice.
    expect(await json(await post(url, 'batch/chunks', { lease, seq: 0, data: ['"a"', '"b"', '"c"'] }))).toEqual({ lastSeq: 2 });
    expect(await json(await post(url, 'batch/chunks', { lease, seq: 2, data: ['"c"', '"d"'] }))).toEqual({ lastSeq: 3 });
    await expectError(await post(url, 'batch/chunks', { lease, seq: 6, data: ['"g"'] }), 409, 'SEQ_GAP', /./);
    // A producer that lost its open's answer resumes with the same openId and gets a new lease.
    const resumed = await json(await post(url, 'batch/open', { mode: 'resume', openId: 'open-1' }));
    expect(resumed).toMatchObject({ info: { lastSeq: 3, status: 'open' } });
    await expectError(await post(url, 'batch/chunks', { lease, seq: 4, data: ['"e"'] }), 409, 'LEASE_LOST', /./);
    const newLease = resumed.lease as number;
    expect(await json(await post(url, 'batch/chunks', { lease: newLease, seq: 4, data: ['"e"'] }))).toEqual({ lastSeq: 4 });
    const ended = await json(await post(url, 'batch/end', { lease: newLease, lastSeq: 4 }));
    expect(ended).toMatchObject({ info: { status: 'ended', lastSeq: 4, endReason: 'completed' } });
    // A retried end answers the same.
    expect(await json(await post(url, 'batch/end', { lease: newLease, lastSeq: 4 }))).toEqual(ended);

    const events = await read.done;
    expectConsecutive(events);
    expect(events.map((event) => event.data)).toEqual(['"a"', '"b"', '"c"', '"d"', '"e"']);
  });

  it('POST /v1/streams/:id/cancel with a cancel-scoped token ends an HTTP-produced stream with cancelled; its next append is STREAM_ENDED', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const { lease } = (await json(await post(url, 'cancel-me/open', {}))) as { lease: number };
    expect(await json(await post(url, 'cancel-me/chunks', { lease, seq: 0, data: ['"a"'] }))).toEqual({ lastSeq: 0 });
    const readOnly = await mintClientToken({ apiKey: API_KEY, streamIds: ['cancel-me'] });
    const canCancel = await mintClientToken({ apiKey: API_KEY, streamIds: ['cancel-me'], cancel: true });
    const cancel = (token: string, body = '{"reason":"enough"}') =>
      fetch(`${url}/v1/streams/cancel-me/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
    await expectError(await cancel(readOnly), 403, 'FORBIDDEN', /does not allow cancelling/);
    await expectError(await cancel(canCancel, '{"reason":5}'), 400, 'BAD_REQUEST', /"reason" must be a string/);
    expect(await json(await cancel(canCancel))).toEqual({ ok: true });
    await expectError(await post(url, 'cancel-me/chunks', { lease, seq: 1, data: ['"b"'] }), 409, 'STREAM_ENDED', /./);
    const info = await (await fetch(`${url}/v1/streams/cancel-me`, { headers: { authorization: `Bearer ${API_KEY}` } })).json();
    expect(info).toMatchObject({ status: 'ended', endReason: 'cancelled', lastSeq: 0 });
  });

  it('refuses bad input with a typed error while a parallel healthy stream is written and read intact', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], maxChunkBytes: 1024, http: { maxRequestBytes: 16 * 1024 } });
    const healthyLease = (await json(await post(url, 'healthy/open', {}))).lease as number;
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['healthy'] });
    const read = later(readSse(`${url}/v1/streams/healthy/events?token=${token}`), close);
    let seq = 0;
    const writeHealthy = async () => {
      expect(await json(await post(url, 'healthy/chunks', { lease: healthyLease, seq, data: [`"${seq}"`, `"${seq + 1}"`] }))).toEqual({ lastSeq: seq + 1 });
      seq += 2;
    };
    await writeHealthy();
    const lease = (await json(await post(url, 'bad/open', {}))).lease as number;

    await expectError(await post(url, 'bad/chunks', { lease, seq: 0, data: ['x'] }, null), 401, 'UNAUTHORIZED', /Missing API key/);
    await expectError(await post(url, 'bad/chunks', { lease, seq: 0, data: ['x'] }, 'wrong-key'), 401, 'UNAUTHORIZED', /Invalid API key/);
    await writeHealthy();
    await expectError(await post(url, 'bad/chunks', { lease, seq: 0, data: ['x'.repeat(20 * 1024)] }), 413, 'CHUNK_TOO_LARGE', /limit of 16384 bytes/);
    await expectError(await post(url, 'bad/chunks', { lease, seq: 0, data: ['x'.repeat(2000)] }), 413, 'CHUNK_TOO_LARGE', /limit of 1024 bytes/);
    await writeHealthy();
    await expectError(await post(url, 'bad/chunks', '{not json'), 400, 'BAD_REQUEST', /not valid JSON/);
    await expectError(await post(url, 'bad/chunks', { lease, seq: -1, data: ['x'] }), 400, 'BAD_REQUEST', /"seq": integer >= 0/);
    await expectError(await post(url, 'bad/chunks', { lease, seq: 0, data: [] }), 400, 'BAD_REQUEST', /1-1024 strings/);
    await expectError(await post(url, 'bad/open', { mode: 'sideways' }), 400, 'BAD_REQUEST', /"mode"/);
    await expectError(await post(url, 'bad/open', {}), 409, 'STREAM_EXISTS', /./);
    await expectError(await post(url, 'bad/open', { mode: 'resume' }), 400, 'BAD_REQUEST', /needs the "openId"/);
    await expectError(await post(url, 'never-opened/chunks', { lease: 1, seq: 0, data: ['x'] }), 404, 'STREAM_NOT_FOUND', /./);
    await expectError(await post(url, 'bad/end', { lease, reason: 'bored' }), 400, 'BAD_REQUEST', /reason/);
    await expectError(await post(url, 'bad/end', { lease, lastSeq: 5 }), 409, 'SEQ_GAP', /./);
    await expectError(await post(url, 'bad%20id/open', {}), 400, 'INVALID_STREAM_ID', /Invalid stream id/);
    await writeHealthy();

    expect(await json(await post(url, 'healthy/end', { lease: healthyLease, lastSeq: seq - 1 }))).toMatchObject({ info: { status: 'ended' } });
    const events = await read.done;
    expectConsecutive(events);
    expect(events.map((event) => event.data)).toEqual(Array.from({ length: seq }, (_, index) => `"${index}"`));
  });
});
