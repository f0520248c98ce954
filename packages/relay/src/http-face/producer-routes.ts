import { assertStreamId, END_REASONS, isEndReason, MAX_CHUNKS_PER_FRAME, StreamstraightError } from '@ss/core/protocol';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type ApiKeyCheck, bearerToken } from '../api-keys.js';
import { KeyedSerialQueue } from '../internal/keyed-serial-queue.js';
import type { ProducerOperations } from '../internal/producer-operations.js';
import { apiKeyId } from '../internal/producer-quotas.js';
import type { OpenMode } from '../store/stream-store.js';

/** What the HTTP producer routes need. */
export interface ProducerRoutesOptions {
  /** The relay's producer operations (read at request time). */
  operations: () => ProducerOperations;
  checkApiKey: ApiKeyCheck;
  /** Largest request body, in bytes; a larger one is refused with 413 `CHUNK_TOO_LARGE`. */
  maxRequestBytes: number;
}

const OPEN_MODES: readonly OpenMode[] = ['create', 'resume', 'overwrite', 'attach'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function malformed(route: string, shape: string, detail?: string): StreamstraightError {
  return new StreamstraightError('BAD_REQUEST', `Malformed ${route} body${detail ? ` (${detail})` : ''}: expected JSON ${shape}.`);
}

async function jsonBody(c: Context, route: string, shape: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw malformed(route, shape, 'not valid JSON');
  }
  if (!isRecord(value)) throw malformed(route, shape, 'not a JSON object');
  return value;
}

/**
 * Adds the HTTP producer, for runtimes that have `fetch` but no Socket.IO (edge functions, other
 * languages). Every route takes `Authorization: Bearer <API key>`; the store logic is the Socket.IO
 * producer's ({@link ProducerOperations}), so the same guarantees hold:
 *
 * - `POST /v1/streams/:id/open` `{ mode?, openId? }` → `{ lease, info }`
 * - `POST /v1/streams/:id/chunks` `{ lease, seq, data: string[] }` → `{ lastSeq }`: idempotent (a
 *   retried batch is not stored twice), a gap is `SEQ_GAP` (409), an oversized body 413.
 * - `POST /v1/streams/:id/end` `{ lease, reason?, lastSeq? }` → `{ info }`
 *
 * Requests of one stream are handled in the order they arrive at this relay.
 * @param app - the relay's HTTP API.
 * @param options - producer operations, API-key check, body limit.
 */
export function addProducerRoutes(app: Hono, options: ProducerRoutesOptions): void {
  const queue = new KeyedSerialQueue();
  /** Runs `work` in the stream's queue (arrival order) and answers with its result. */
  const inOrder = <T>(streamId: string, work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => queue.run(streamId, () => work().then(resolve, reject)));

  const limit = bodyLimit({
    maxSize: options.maxRequestBytes,
    onError: () => {
      throw new StreamstraightError(
        'CHUNK_TOO_LARGE',
        `The request body is over the relay's limit of ${options.maxRequestBytes} bytes. Send fewer or smaller chunks per request.`,
      );
    },
  });
  /** Checks the API key; returns its quota id. */
  const requireApiKey = (c: Context): string => {
    const credential = bearerToken(c.req.header('authorization'));
    if (credential === undefined) throw new StreamstraightError('UNAUTHORIZED', 'Missing API key: send "Authorization: Bearer <API key>".');
    if (!options.checkApiKey(credential)) throw new StreamstraightError('UNAUTHORIZED', 'Invalid API key: use one of the keys the relay is configured with.');
    return apiKeyId(credential);
  };
  const noStore = (c: Context) => c.header('Cache-Control', 'no-store');

  const OPEN_SHAPE = `{ "mode"?: ${OPEN_MODES.map((mode) => `"${mode}"`).join(' | ')} (default "create"), "openId"?: string of 1-64 characters }`;
  app.post('/v1/streams/:streamId/open', limit, async (c) => {
    const keyId = requireApiKey(c);
    const streamId = assertStreamId(c.req.param('streamId'));
    const body = await jsonBody(c, 'open', OPEN_SHAPE);
    const mode = body.mode ?? 'create';
    if (!(OPEN_MODES as readonly unknown[]).includes(mode)) throw malformed('open', OPEN_SHAPE, '"mode"');
    const { openId } = body;
    if (openId !== undefined && !(typeof openId === 'string' && openId.length > 0 && openId.length <= 64)) throw malformed('open', OPEN_SHAPE, '"openId"');
    if (mode === 'resume' && openId === undefined) {
      // Without the openId it was opened with, a resume could take over another producer's stream.
      throw malformed('open', OPEN_SHAPE, '"mode": "resume" needs the "openId" the stream was opened with');
    }
    const result = await inOrder(streamId, () => options.operations().open(keyId, streamId, mode as OpenMode, openId as string | undefined));
    noStore(c);
    return c.json({ lease: result.lease, info: result.info });
  });

  const CHUNKS_SHAPE = `{ "lease": number (from open), "seq": integer >= 0, "data": 1-${MAX_CHUNKS_PER_FRAME} strings }`;
  app.post('/v1/streams/:streamId/chunks', limit, async (c) => {
    const keyId = requireApiKey(c);
    const streamId = assertStreamId(c.req.param('streamId'));
    const body = await jsonBody(c, 'chunks', CHUNKS_SHAPE);
    const { lease, seq, data } = body;
    if (typeof lease !== 'number' || !isSeq(seq) || !Array.isArray(data) || data.length === 0 || data.length > MAX_CHUNKS_PER_FRAME || !data.every((item) => typeof item === 'string')) {
      throw malformed('chunks', CHUNKS_SHAPE);
    }
    const operations = options.operations();
    operations.checkChunkSizes(data as string[]);
    const result = await inOrder(streamId, () => operations.append(keyId, streamId, lease, seq, data as string[]));
    noStore(c);
    return c.json({ lastSeq: result.lastSeq });
  });

  const END_SHAPE = `{ "lease": number, "reason"?: one of ${END_REASONS.join(', ')} (default completed), "lastSeq"?: integer >= -1 }`;
  app.post('/v1/streams/:streamId/end', limit, async (c) => {
    requireApiKey(c);
    const streamId = assertStreamId(c.req.param('streamId'));
    const body = await jsonBody(c, 'end', END_SHAPE);
    const { lease, lastSeq } = body;
    const reason = body.reason ?? 'completed';
    if (typeof lease !== 'number' || !isEndReason(reason) || !(lastSeq === undefined || isSeq(lastSeq) || lastSeq === -1)) {
      throw malformed('end', END_SHAPE);
    }
    const info = await inOrder(streamId, () => options.operations().end(streamId, lease, reason, lastSeq as number | undefined));
    noStore(c);
    return c.json({ info });
  });
}
