import type { ErrorPayload, StreamInfo } from '@ss/core/protocol';

/** How a stream is written to an HTTP reader. */
export type EventFormatName = 'sse' | 'ndjson' | 'text';

/** Every {@link EventFormatName}. */
export const EVENT_FORMATS: readonly EventFormatName[] = ['sse', 'ndjson', 'text'];

/** Turns a stream's chunks, end and errors into the text of one response format. */
export interface EventFormat {
  readonly contentType: string;
  /** Written first (SSE: the reconnect delay, which also sends the headers at once). */
  opening(): string;
  chunks(seq: number, data: readonly string[]): string;
  end(info: StreamInfo): string;
  error(error: ErrorPayload): string;
  /** A keep-alive that readers ignore, or '' where the format has none. */
  keepAlive(): string;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** The end as every format reports it. */
function endPayload(info: StreamInfo): { reason: string; lastSeq: number } {
  return { reason: info.endReason ?? 'completed', lastSeq: info.lastSeq };
}

/**
 * Server-Sent Events: one event per chunk, `id: <seq>` (so EventSource resumes with
 * `Last-Event-ID`), the chunk as `data` (a chunk with line breaks becomes several `data:` lines,
 * which a reader joins with `\n`); `event: end` with `{ reason, lastSeq }`; `event: stream-error`
 * with `{ code, message, retryInMs? }`; `: keep-alive` comments.
 */
export function sseFormat(retryMs: number): EventFormat {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    opening: () => `retry: ${retryMs}\n\n`,
    chunks(seq, data) {
      let text = '';
      for (let index = 0; index < data.length; index++) {
        const chunk = data[index]!;
        text += `id: ${seq + index}\n`;
        if (chunk.includes('\n') || chunk.includes('\r')) {
          for (const line of chunk.split(LINE_BREAK)) text += `data: ${line}\n`;
        } else text += `data: ${chunk}\n`;
        text += '\n';
      }
      return text;
    },
    end: (info) => `event: end\ndata: ${JSON.stringify(endPayload(info))}\n\n`,
    error: (error) => `event: stream-error\ndata: ${JSON.stringify(error)}\n\n`,
    keepAlive: () => ': keep-alive\n\n',
  };
}

/** NDJSON: `{"seq":N,"data":"…"}` per chunk, then `{"end":{reason,lastSeq}}` or `{"error":{code,message}}`. */
export const ndjsonFormat: EventFormat = {
  contentType: 'application/x-ndjson; charset=utf-8',
  opening: () => '',
  chunks(seq, data) {
    let text = '';
    for (let index = 0; index < data.length; index++) text += `{"seq":${seq + index},"data":${JSON.stringify(data[index])}}\n`;
    return text;
  },
  end: (info) => `${JSON.stringify({ end: endPayload(info) })}\n`,
  error: (error) => `${JSON.stringify({ error })}\n`,
  keepAlive: () => '',
};

/**
 * Plain text for a terminal: a chunk that is a JSON string (what the producer's default encoder
 * makes of text) is written as its text; any other chunk as it is stored, on a line of its own.
 * Nothing marks the end but the end of the response; an error is one last line.
 */
export const textFormat: EventFormat = {
  contentType: 'text/plain; charset=utf-8',
  opening: () => '',
  chunks(_seq, data) {
    let text = '';
    for (const chunk of data) {
      if (chunk.startsWith('"')) {
        try {
          const value: unknown = JSON.parse(chunk);
          if (typeof value === 'string') {
            text += value;
            continue;
          }
        } catch {
          // not a JSON string: written as stored
        }
      }
      text += `${chunk}\n`;
    }
    return text;
  },
  end: () => '\n',
  error: (error) => `\n[stream error ${error.code}: ${error.message}]\n`,
  keepAlive: () => '',
};
