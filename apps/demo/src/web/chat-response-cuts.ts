/**
 * Demo only: really cut an AI chat response mid-answer, as a network drop, a proxy timeout or a
 * serverless response limit would. The web server tracks each `POST /api/ai-chat` response by the
 * tab that asked (the `x-demo-tab` header); `POST /demo/ai-responses/<tabId>/cut` destroys their TCP
 * sockets. The browser's fetch then fails mid-body, and `StreamstraightChatTransport` continues the
 * answer from the relay at the next chunk.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AI_RESPONSES_PREFIX, DEMO_TAB_HEADER, TAB_ID } from './demo-tab';

/** The chat route whose responses can be cut. */
export const AI_CHAT_PATH = '/api/ai-chat';

/** The AI chat responses in flight, by tab. */
export class ChatResponseCuts {
  readonly #inFlight = new Map<string, Set<ServerResponse>>();

  /** Remembers `response` until it closes when it answers an AI chat request that names its tab. */
  track(request: IncomingMessage, response: ServerResponse): void {
    const tabId = request.headers[DEMO_TAB_HEADER];
    if (request.method !== 'POST' || typeof tabId !== 'string' || !TAB_ID.test(tabId)) return;
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== AI_CHAT_PATH) return;
    let responses = this.#inFlight.get(tabId);
    if (responses === undefined) {
      responses = new Set();
      this.#inFlight.set(tabId, responses);
    }
    const tracked = responses;
    tracked.add(response);
    response.once('close', () => {
      tracked.delete(response);
      if (tracked.size === 0 && this.#inFlight.get(tabId) === tracked) this.#inFlight.delete(tabId);
    });
  }

  /**
   * Answers `POST /demo/ai-responses/<tabId>/cut` with `{ cut: n }`.
   * @returns false when the request is not for this (the caller handles it).
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith(AI_RESPONSES_PREFIX)) return false;
    const [tabId, action, ...rest] = path.slice(AI_RESPONSES_PREFIX.length).split('/');
    if (request.method !== 'POST' || action !== 'cut' || rest.length > 0 || tabId === undefined || !TAB_ID.test(tabId)) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'POST /demo/ai-responses/<tabId>/cut cuts that tab’s AI chat responses.' }));
      return true;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ cut: this.cut(tabId) }));
    return true;
  }

  /**
   * Destroys the sockets of a tab's AI chat responses in flight.
   * @returns how many responses were cut.
   */
  cut(tabId: string): number {
    const responses = [...(this.#inFlight.get(tabId) ?? [])];
    for (const response of responses) response.socket?.destroy();
    return responses.length;
  }
}
