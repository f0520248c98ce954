/**
 * The UI message stream as SSE text, the way `@ss/core`'s `'ui-message-stream'` body format writes it:
 * `id: <seq>` + `data: <chunk JSON>` per chunk, then `data: [DONE]`. The transport re-emits what it
 * reads (from the HTTP response or from the relay) in this shape, so the AI SDK's own parser reads
 * both alike.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';

/** The event that ends a UI message stream. */
export const DONE_EVENT = 'data: [DONE]\n\n';

/**
 * One SSE event.
 * @param seq - the chunk's seq on the relay.
 * @param data - the chunk as the relay stores it (its JSON).
 * @returns the event's text.
 */
export function uiMessageEvent(seq: number, data: string): string {
  return `id: ${seq}\ndata: ${data.split(/\r\n|\r|\n/).join('\ndata: ')}\n\n`;
}

/** An SSE event as read from a response body. */
export interface ReadEvent {
  id: string | undefined;
  data: string;
}

/**
 * Reads the SSE events of a response body, with a maintained parser (`eventsource-parser`).
 * @param body - the response body.
 * @returns the events, in order; the iteration throws where the body breaks.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ReadEvent> {
  const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  const reader = body.pipeThrough(decoder).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield { id: value.id, data: value.data };
    }
  } finally {
    // Stopped early (the consumer cancelled): let go of the body. A broken body is already errored.
    reader.cancel().catch(() => {});
  }
}

/**
 * A byte stream that pulls from `events` one at a time (so a slow consumer slows the source) and
 * stops it when cancelled.
 * @param events - SSE event texts.
 * @returns the stream of their UTF-8 bytes.
 */
export function toByteStream(events: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await events.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await events.return(undefined);
    },
  });
}
