/**
 * `GET` on a Durable Streams URL: a catch-up read, a long-poll, or Server-Sent Events
 * (`?live=long-poll` / `?live=sse`), from `?offset=` on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamStore } from '../store/stream-store.js';
import { chunkBytes, chunksToBody } from './content-types.js';
import { responseCursor } from './cursor.js';
import { COMMON_HEADERS, FaceError, send } from './http-io.js';
import { lookUp, touch } from './lifecycle.js';
import { OFFSET_SHAPE, formatOffset, parseOffset } from './offsets.js';
import type { StreamView } from './stream-config.js';
import { LiveFeed } from './live-feed.js';
import { waitForChange } from './wait-for-change.js';

/** The read limits and timings (see `DurableStreamsOptions`). */
export interface ReadSettings {
  longPollTimeoutMs: number;
  sseMaxDurationMs: number;
  maxReadBytes: number;
  maxReaderBufferBytes: number;
}

/** What the reads report to the metrics. */
export interface ReadObserver {
  liveReaderStarted(mode: 'long-poll' | 'sse'): () => void;
  readerDropped(): void;
  /** Aborts when the relay shuts down: live reads answer or end at once. */
  shutdown: AbortSignal;
}

/** An AbortController for one live read: aborts when the client goes or the relay shuts down. */
function liveAbort(response: ServerResponse, shutdown: AbortSignal): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  response.on('close', abort);
  shutdown.addEventListener('abort', abort);
  if (shutdown.aborted) abort();
  return {
    signal: controller.signal,
    release() {
      response.off('close', abort);
      shutdown.removeEventListener('abort', abort);
    },
  };
}

/** Most chunks asked of the store per read. */
const MAX_CHUNKS_PER_READ = 1000;

interface Page {
  chunks: string[];
  /** The position after the page. */
  next: number;
  /** True when the page holds everything stored from its start at the time of the read. */
  complete: boolean;
}

async function readPage(store: StreamStore, streamId: string, from: number, maxBytes: number): Promise<Page> {
  const chunks = await store.read(streamId, from, MAX_CHUNKS_PER_READ);
  let bytes = 0;
  let count = 0;
  while (count < chunks.length) {
    bytes += chunkBytes(chunks[count]!);
    if (bytes > maxBytes && count > 0) break;
    count++;
  }
  const complete = chunks.length < MAX_CHUNKS_PER_READ && count === chunks.length;
  if (count < chunks.length) chunks.length = count;
  return { chunks, next: from + count, complete };
}

function contentTypeHeader(view: StreamView): Record<string, string> {
  return { 'content-type': view.contentType };
}

/** The parsed query of a read. */
interface ReadRequest {
  /** Where to start; `undefined` for offset=now (the tail). */
  seq: number | undefined;
  offsetText: string;
  live: 'long-poll' | 'sse' | undefined;
  cursor: string | null;
}

function parseReadRequest(url: URL): ReadRequest {
  const offsets = url.searchParams.getAll('offset');
  if (offsets.length > 1) throw new FaceError(400, 'BAD_REQUEST', 'Give one offset parameter, not several.');
  const offsetText = offsets[0];
  const liveText = url.searchParams.get('live');
  if (liveText !== null && liveText !== 'long-poll' && liveText !== 'sse') {
    throw new FaceError(400, 'BAD_REQUEST', `Unknown live mode ${JSON.stringify(liveText)}: use live=long-poll or live=sse, or leave it out for a catch-up read.`);
  }
  const live = liveText ?? undefined;
  if (offsetText === undefined) {
    if (live) throw new FaceError(400, 'BAD_REQUEST', `live=${live} needs an offset: start with offset=-1 (the beginning) or offset=now (the tail).`);
    return { seq: 0, offsetText: '-1', live, cursor: url.searchParams.get('cursor') };
  }
  const parsed = parseOffset(offsetText);
  if (!parsed) throw new FaceError(400, 'BAD_REQUEST', `Malformed offset ${JSON.stringify(offsetText)}: ${OFFSET_SHAPE}.`);
  return { seq: 'now' in parsed ? undefined : parsed.seq, offsetText, live, cursor: url.searchParams.get('cursor') };
}

/**
 * Serves a GET on a stream the caller looked up (and found live).
 */
export async function readStream(
  store: StreamStore,
  settings: ReadSettings,
  observer: ReadObserver,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  view: StreamView,
): Promise<void> {
  const query = parseReadRequest(url);
  const start = query.seq ?? view.tail;
  if (start > view.tail) {
    throw new FaceError(400, 'BAD_REQUEST', `Offset ${query.offsetText} is past the end of stream ${JSON.stringify(view.streamId)} (${formatOffset(view.tail)}): use a Stream-Next-Offset this stream returned.`);
  }
  await touch(store, view);
  if (query.live === 'sse') return serveSse(store, settings, observer, request, response, view, start, query.cursor);

  if (query.seq === undefined && query.live === undefined) {
    // offset=now, catch-up: the tail and nothing else; not cacheable.
    const headers: Record<string, string> = {
      ...contentTypeHeader(view),
      'stream-next-offset': formatOffset(view.tail),
      'stream-up-to-date': 'true',
      'cache-control': 'no-store',
    };
    if (view.closed) headers['stream-closed'] = 'true';
    return send(response, 200, headers, view.encoding === 'json' ? '[]' : '');
  }

  let current = view;
  let page = await readPage(store, view.streamId, start, settings.maxReadBytes);
  if (query.live === 'long-poll' && page.chunks.length === 0 && page.complete && !current.closed) {
    const live = liveAbort(response, observer.shutdown);
    const finished = observer.liveReaderStarted('long-poll');
    try {
      const outcome = await waitForChange(store, view.streamId, start, settings.longPollTimeoutMs, live.signal);
      // The client left: nobody to answer. (At shutdown the poll is answered now, as after a timeout.)
      if (outcome === 'aborted' && !observer.shutdown.aborted) return;
    } finally {
      finished();
      live.release();
    }
    const again = await lookUp(store, view.streamId);
    if (again.state === 'missing') throw new FaceError(404, 'STREAM_NOT_FOUND', `Stream ${JSON.stringify(view.streamId)} was deleted while this read waited.`);
    if (again.state === 'gone') throw new FaceError(410, 'STREAM_NOT_FOUND', `Stream ${JSON.stringify(view.streamId)} was deleted while this read waited.`);
    if (again.view.instance !== view.instance) {
      throw new FaceError(404, 'STREAM_NOT_FOUND', `Stream ${JSON.stringify(view.streamId)} was deleted and created again while this read waited: its offsets start over; read from offset -1.`);
    }
    current = again.view;
    page = await readPage(store, view.streamId, start, settings.maxReadBytes);
  }

  const closedAtEnd = current.closed && page.complete && page.next >= current.tail;
  const headers: Record<string, string> = { ...contentTypeHeader(current), 'stream-next-offset': formatOffset(page.next) };
  if (page.complete) headers['stream-up-to-date'] = 'true';
  if (closedAtEnd) headers['stream-closed'] = 'true';
  if (query.live === 'long-poll') {
    if (!closedAtEnd) headers['stream-cursor'] = responseCursor(query.cursor);
    if (page.chunks.length === 0) {
      headers['cache-control'] = 'no-store';
      return send(response, 204, headers);
    }
  }
  const etag = `"${current.instance}:${query.offsetText}:${formatOffset(page.next)}${closedAtEnd ? ':c' : ''}"`;
  headers.etag = etag;
  // A page that is not the tail never changes (chunks are immutable by position); the tail may grow.
  headers['cache-control'] = page.complete && !closedAtEnd ? 'no-store' : 'private, max-age=60, stale-while-revalidate=300';
  if (request.headers['if-none-match'] === etag) return send(response, 304, { etag, 'cache-control': headers['cache-control'] });
  send(response, 200, headers, chunksToBody(page.chunks, current.encoding, current.native));
}

/** One SSE event; every line of `payload` gets its own `data:` (so a payload can never forge an event). */
function sseEvent(event: 'data' | 'control', payload: string): string {
  return `event: ${event}\n${payload
    .split(/\r\n|\r|\n/)
    .map((line) => `data:${line}`)
    .join('\n')}\n\n`;
}

function sseData(chunks: readonly string[], view: StreamView): string {
  if (view.encoding === 'base64') return chunksToBody(chunks, 'base64').toString('base64');
  return chunksToBody(chunks, view.encoding, view.native).toString('utf8');
}

async function serveSse(
  store: StreamStore,
  settings: ReadSettings,
  observer: ReadObserver,
  request: IncomingMessage,
  response: ServerResponse,
  first: StreamView,
  start: number,
  cursor: string | null,
): Promise<void> {
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
  if (first.encoding === 'base64') headers['stream-sse-data-encoding'] = 'base64';
  response.writeHead(200, headers);
  response.flushHeaders();
  const controller = liveAbort(response, observer.shutdown);
  request.socket.setNoDelay(true);
  const finished = observer.liveReaderStarted('sse');
  const deadline = Date.now() + settings.sseMaxDurationMs;
  // Subscribed before the first read: whatever is stored after it arrives as events.
  const feed = new LiveFeed(store, first.streamId, settings.maxReaderBufferBytes);
  let view = first;
  let position = start;
  let announce = true;
  /** Read from the store (catching up, or after missed events) rather than from the feed. */
  let fromStore = true;
  /** The tail of the stream's end, once an end event came. */
  let endedAt: number | undefined;
  try {
    while (!controller.signal.aborted) {
      let chunks: string[] = [];
      let next = position;
      let complete = true;
      if (fromStore) {
        const page = await readPage(store, view.streamId, position, settings.maxReadBytes);
        chunks = page.chunks;
        next = page.next;
        complete = page.complete;
        fromStore = !complete;
      } else {
        const { events, overflowed } = feed.take();
        let suspicious = false;
        for (const event of events) {
          if (event.type === 'end') {
            endedAt = event.info.lastSeq + 1;
            continue;
          }
          if (event.seq > next) {
            fromStore = true; // a gap: events were missed; the store has them
            break;
          }
          if (event.seq < position) suspicious = true; // before what this reader had: left from the catch-up, or a new stream under the same id
          const end = event.seq + event.data.length;
          if (end > next) {
            for (const chunk of event.data.slice(next - event.seq)) chunks.push(chunk);
            next = end;
          }
        }
        if (suspicious) {
          const again = await lookUp(store, view.streamId);
          if (again.state !== 'live' || again.view.instance !== view.instance) break;
        }
        if (overflowed || fromStore || (endedAt !== undefined && next < endedAt)) {
          fromStore = true;
          continue;
        }
      }
      const tail = endedAt ?? (view.closed ? view.tail : undefined);
      const closedAtEnd = tail !== undefined && complete && next >= tail;
      if (chunks.length > 0 || announce || closedAtEnd) {
        const control: Record<string, string | boolean> = { streamNextOffset: formatOffset(next) };
        if (closedAtEnd) control.streamClosed = true;
        else {
          control.streamCursor = responseCursor(cursor);
          if (complete) control.upToDate = true;
        }
        const text = (chunks.length > 0 ? sseEvent('data', sseData(chunks, view)) : '') + sseEvent('control', JSON.stringify(control));
        response.write(text);
        if (response.writableLength > settings.maxReaderBufferBytes) {
          // A reader that does not read: drop it rather than buffer without limit. It resumes from its last control offset.
          observer.readerDropped();
          response.destroy();
          return;
        }
      }
      announce = false;
      position = next;
      if (closedAtEnd) break;
      if (!complete) {
        // Catching up: let the client take this page before reading the next.
        if (response.writableLength > 0 && !(await drained(response, deadline - Date.now()))) break;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      const outcome = await feed.wait(Math.min(left, settings.longPollTimeoutMs), controller.signal);
      if (outcome === 'aborted') break;
      if (outcome === 'timeout') {
        announce = true; // a keep-alive control event
        const again = await lookUp(store, view.streamId);
        // Deleted, or deleted and created again (its offsets start over): this response is done.
        if (again.state !== 'live' || again.view.instance !== view.instance) break;
        view = again.view;
        if (view.closed || view.tail > position) fromStore = true;
      } else {
        await touch(store, view);
      }
    }
  } finally {
    feed.close();
    finished();
    controller.release();
    if (!response.destroyed) response.end();
  }
}

/** Resolves true once `response` drained, false when it closed or `timeoutMs` passed first. */
function drained(response: ServerResponse, timeoutMs: number): Promise<boolean> {
  if (timeoutMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(value);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}

