// Reading Server-Sent Events with fetch in tests: each event's name and data (data lines joined).

/** One SSE event. */
export interface SseEvent {
  event: string;
  data: string;
}

/** A live SSE response being read; `events` fills as they arrive. */
export interface SseReader {
  readonly response: Response;
  readonly events: SseEvent[];
  /** Resolves when the server ends the response (or rejects if the connection breaks). */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * Opens `url` with fetch and parses its body as SSE in the background.
 * @param headers - request headers (for example `authorization`).
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          events.push({ event, data: data.join('\n') });
          boundary = buffer.indexOf('\n\n');
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  ended.catch(() => {});
  return { response, events, ended, close: () => controller.abort() };
}
