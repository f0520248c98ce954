/**
 * A bare Server-Sent Events reader over `node:http` for load generators: one GET per reader, events
 * parsed from the text with no other library, so thousands of readers cost little CPU and every
 * system read over SSE is read the same way (the relay's SSE endpoint, Durable Streams, a
 * resumable-stream route).
 */
import { Agent, get } from 'node:http';

/** One event: its `event:` name (`message` when none), its `data:` lines joined with `\n`, its `id:`. */
export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** An open reader. */
export interface SseReader {
  /** Resolves when the response ends (or fails: `error` says why). */
  readonly closed: Promise<void>;
  readonly error: Error | undefined;
  close(): void;
}

// No pooling limit: every reader holds its own connection for the whole run.
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** Parses one event block (the text between blank lines); undefined for a comment-only block. */
function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  let data: string | undefined;
  let id: string | undefined;
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue; // a comment (keep-alive)
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }
  return data === undefined ? undefined : { event, data, id };
}

/**
 * Opens `url` as an event stream and calls `onEvent` for every event, in order.
 * @param onOpen - called with the status once the response headers arrive (a non-200 ends the reader with an error).
 */
export function openSse(url: string, handlers: { headers?: Record<string, string>; onEvent(event: SseEvent): void; onOpen?(status: number): void }): SseReader {
  let error: Error | undefined;
  let close = (): void => {};
  const closed = new Promise<void>((resolve) => {
    const request = get(url, { agent, headers: { accept: 'text/event-stream', ...handlers.headers } }, (response) => {
      handlers.onOpen?.(response.statusCode ?? 0);
      if (response.statusCode !== 200) {
        error = new Error(`GET ${url} answered ${response.statusCode}`);
        response.resume();
        response.once('end', resolve);
        return;
      }
      response.setEncoding('utf8');
      let pending = '';
      response.on('data', (text: string) => {
        pending += text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
        let end = pending.indexOf('\n\n');
        while (end >= 0) {
          const event = parseBlock(pending.slice(0, end));
          pending = pending.slice(end + 2);
          if (event) handlers.onEvent(event);
          end = pending.indexOf('\n\n');
        }
      });
      response.once('end', resolve);
      response.once('error', resolve);
    });
    request.once('error', (cause) => {
      error ??= cause;
      resolve();
    });
    close = () => request.destroy();
  });
  return {
    closed,
    get error() {
      return error;
    },
    close: () => close(),
  };
}
