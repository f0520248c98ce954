// An EventSource-style reader for tests, in Node: fetch + eventsource-parser, reconnecting with
// `Last-Event-ID` after every cut (as a browser's EventSource does) until the `end` event.
import { createParser } from 'eventsource-parser';

export interface SseEvent {
  id: number;
  data: string;
}

export interface SseRead {
  /** Every chunk event received, in order, across connections. */
  readonly events: SseEvent[];
  /** The end event's payload, once received. */
  readonly end: { reason: string; lastSeq: number } | undefined;
  /** Number of connections made (1 + reconnects). */
  readonly connections: number;
  /** Keep-alive comments seen. */
  readonly comments: number;
  /** Resolves with the events once the end event arrived. */
  done: Promise<SseEvent[]>;
  /** Stops reading. */
  close(): void;
}

export interface SseReadOptions {
  /** Sent as `Authorization: Bearer`; omit to use `?token=` in `url` instead. */
  token?: string;
  /** The first `Last-Event-ID` header. */
  lastEventId?: string;
  /** Delay before a reconnect. Default 20 ms. */
  reconnectMs?: number;
  /** Give up after this many connections. Default 50. */
  maxConnections?: number;
}

/**
 * Reads `url` as an EventSource would: reconnects after a cut with the last id seen.
 * @returns the read; `done` rejects on a non-200 answer or too many reconnects.
 */
export function readSse(url: string, options: SseReadOptions = {}): SseRead {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  let end: SseRead['end'];
  let connections = 0;
  let comments = 0;
  let lastEventId = options.lastEventId;
  const read: SseRead = {
    events,
    get end() {
      return end;
    },
    get connections() {
      return connections;
    },
    get comments() {
      return comments;
    },
    done: Promise.resolve([]),
    close: () => controller.abort(),
  };
  read.done = (async () => {
    while (end === undefined) {
      if (controller.signal.aborted) throw new Error('closed');
      if (++connections > (options.maxConnections ?? 50)) throw new Error(`gave up after ${connections - 1} connections`);
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      let response: Response;
      try {
        response = await fetch(url, { headers, signal: controller.signal });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, options.reconnectMs ?? 20));
        continue;
      }
      if (response.status === 204) break;
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      const parser = createParser({
        onEvent(event) {
          if (event.event === 'end') {
            end = JSON.parse(event.data);
            return;
          }
          if (event.event === 'stream-error') throw new Error(`stream-error ${event.data}`);
          if (event.id !== undefined) lastEventId = event.id;
          events.push({ id: Number(event.id), data: event.data });
        },
        onComment() {
          comments++;
        },
      });
      const decoder = new TextDecoder();
      try {
        const reader = response.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // cut: reconnect with the last id
      }
      if (end === undefined) await new Promise((resolve) => setTimeout(resolve, options.reconnectMs ?? 20));
    }
    return events;
  })();
  read.done.catch(() => {});
  return read;
}

/** Fails unless `events` are chunks `from`, `from + 1`, … each exactly once. */
export function expectConsecutive(events: readonly SseEvent[], from = 0): void {
  events.forEach((event, index) => {
    if (event.id !== from + index) throw new Error(`event ${index} has id ${event.id}, expected ${from + index} (duplicate or gap)`);
  });
}
