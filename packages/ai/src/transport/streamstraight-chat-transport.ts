/**
 * `StreamstraightChatTransport`: the AI SDK's HTTP chat transport (headers, body, credentials,
 * `prepare…Request` all as `DefaultChatTransport` does them) plus the relay:
 *
 * - `sendMessages` reads the app's tee'd response (`format: 'ui-message-stream'`), remembering the
 *   stream id (`x-stream-id`) and the last SSE `id`. If the body breaks mid-answer, it continues from
 *   the relay at `lastSeq + 1`: the UI sees one unbroken stream, nothing twice, nothing missing.
 * - `reconnectToStream` asks the app's active-stream route (`GET {api}/{chatId}/stream`, served by
 *   `activeStreamHandler`) and reads the whole answer from the relay (`resumeStreamIsReplay`: true).
 * - `cancelOnStop`: `stop()` also cancels the stream at the relay, which reaches the producer's
 *   `onCancel` and so the model call.
 *
 * How: every request goes through the base class with a signal of our own, which keys the call's
 * context in `calls`; the `fetch` the base class is given looks the context up and wraps the answer.
 */
import { streamstraightClient, type StreamReader, type StreamstraightClientOptions } from '@ss/client';
import { StreamstraightError } from '@ss/core/protocol';
import { type ChatTransport, DefaultChatTransport, type HttpChatTransportInitOptions, type UIMessage, type UIMessageChunk } from 'ai';
import { type ActiveStreamGrant, isGrantResponse, readGrant } from './active-stream-grant.js';
import { DONE_EVENT, readEvents, toByteStream, uiMessageEvent } from './ui-message-events.js';

/** The response header that names the relay stream (set by every adapter's `streamResponse`). */
const STREAM_ID_HEADER = 'x-stream-id';

/** Options of {@link StreamstraightChatTransport}: the AI SDK's HTTP transport options plus these. */
export type StreamstraightChatTransportOptions<UI_MESSAGE extends UIMessage = UIMessage> = HttpChatTransportInitOptions<UI_MESSAGE> & {
  /**
   * Make `useChat`'s `stop()` cancel the stream at the relay too: the app's `streamResponse`
   * `onCancel` runs (abort the model call there). The active-stream route must mint cancel tokens
   * (`activeStreamHandler({ cancel: true })`). Default false: `stop()` only stops this page reading.
   */
  cancelOnStop?: boolean;
  /** The relay URL to read from, instead of the `relayUrl` the active-stream route answers. */
  relayUrl?: string;
  /** Reader options for the relay (`retries`, `retryBaseMs`, `retryMaxMs`, `transports`, `ackTimeoutMs`). */
  reader?: Pick<StreamstraightClientOptions, 'retries' | 'retryBaseMs' | 'retryMaxMs' | 'transports' | 'ackTimeoutMs'>;
  /**
   * How long a page whose response broke waits for the relay to know the stream (the app's relay
   * branch may trail its response by a little). Default 10 000 ms.
   */
  waitForStreamMs?: number;
  /** Called with failures the chat does not see (a cancel at the relay that failed). Default: `console.warn`. */
  onError?: (error: StreamstraightError) => void;
};

type CallKind = 'send' | 'reconnect' | 'grant';

/** One request of the transport, found again by its signal when the base class fetches. */
interface Call {
  kind: CallKind;
  chatId: string;
  /** Aborted when the caller's signal aborts (`stop()`). */
  stopped: () => boolean;
  /** The relay stream the answer is on, once known. */
  streamId?: string;
  /** The seq of the last chunk handed to the chat. */
  lastSeq: number;
  /** For a grant request: the route's raw answer. */
  grantResponse?: Response;
}

/**
 * A `ChatTransport` for `useChat` (AI SDK 6 and 7) that resumes through the Streamstraight relay.
 *
 * @example
 * ```tsx
 * const { messages, sendMessage, stop } = useChat({
 *   id: chatId,
 *   resume: true,
 *   transport: new StreamstraightChatTransport({ api: '/api/chat', cancelOnStop: true }),
 * })
 * ```
 */
export class StreamstraightChatTransport<UI_MESSAGE extends UIMessage = UIMessage>
  extends DefaultChatTransport<UI_MESSAGE>
  implements ChatTransport<UI_MESSAGE>
{
  /** The relay is read from the first chunk on `reconnectToStream`: the chat resets the message it streams. */
  override readonly resumeStreamIsReplay = true;

  readonly #calls = new WeakMap<AbortSignal, Call>();
  readonly #readers = new Set<StreamReader<string>>();
  readonly #options: StreamstraightChatTransportOptions<UI_MESSAGE>;

  /**
   * @param options - the AI SDK's HTTP transport options (`api` default `/api/chat`, `headers`,
   *   `body`, `credentials`, `fetch`, `prepareSendMessagesRequest`, `prepareReconnectToStreamRequest`)
   *   plus `cancelOnStop`, `relayUrl`, `reader`, `waitForStreamMs`, `onError`.
   */
  constructor(options: StreamstraightChatTransportOptions<UI_MESSAGE> = {}) {
    const appFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
    // The base class calls this fetch for every request; `this` is set by the time it does.
    const hook: { transport?: StreamstraightChatTransport<UI_MESSAGE> } = {};
    super({ ...options, resumeStreamIsReplay: true, fetch: (input, init) => (hook.transport as StreamstraightChatTransport<UI_MESSAGE>).#fetch(appFetch, input, init) } as HttpChatTransportInitOptions<UI_MESSAGE>);
    hook.transport = this;
    this.#options = options;
  }

  override sendMessages(options: Parameters<ChatTransport<UI_MESSAGE>['sendMessages']>[0]): Promise<ReadableStream<UIMessageChunk>> {
    const signal = this.#begin('send', options.chatId, options.abortSignal);
    return super.sendMessages({ ...options, abortSignal: signal });
  }

  override reconnectToStream(options: Parameters<ChatTransport<UI_MESSAGE>['reconnectToStream']>[0]): Promise<ReadableStream<UIMessageChunk> | null> {
    const signal = this.#begin('reconnect', options.chatId, options.abortSignal);
    return super.reconnectToStream({ ...options, abortSignal: signal });
  }

  /** Closes every relay connection this transport opened (the chats' streams stop). */
  close(): void {
    for (const reader of this.#readers) reader.close();
    this.#readers.clear();
  }

  /** Registers a call and returns the signal that finds it again (aborted with the caller's). */
  #begin(kind: CallKind, chatId: string, callerSignal: AbortSignal | undefined): AbortSignal {
    const controller = new AbortController();
    const call: Call = { kind, chatId, stopped: () => controller.signal.aborted, lastSeq: -1 };
    this.#calls.set(controller.signal, call);
    if (callerSignal !== undefined) {
      const stop = () => {
        controller.abort(callerSignal.reason);
        if (kind !== 'grant' && this.#options.cancelOnStop === true && call.streamId !== undefined) void this.#cancelAtRelay(call);
      };
      if (callerSignal.aborted) stop();
      else callerSignal.addEventListener('abort', stop, { once: true });
    }
    return controller.signal;
  }

  async #fetch(appFetch: typeof fetch, input: RequestInfo | URL, init: RequestInit | undefined): Promise<Response> {
    const call = init?.signal ? this.#calls.get(init.signal) : undefined;
    const response = await appFetch(input, init);
    if (call === undefined) return response;
    if (call.kind === 'grant') {
      // Keep the route's answer for #fetchGrant; the base class sees "nothing to resume".
      call.grantResponse = response;
      return new Response(null, { status: 204 });
    }
    if (!response.ok || response.body === null || response.status === 204) return response;
    if (call.kind === 'send') {
      const streamId = response.headers.get(STREAM_ID_HEADER);
      if (streamId === null) return response; // not a tee'd response: nothing to resume from
      call.streamId = streamId;
      return withBody(response, this.#answerEvents(response.body, call));
    }
    if (!isGrantResponse(response)) return response; // a route that streams the answer itself
    const grant = await readGrant(response, String(input));
    if (grant === null) return new Response(null, { status: 204 });
    call.streamId = grant.streamId;
    return withBody(response, this.#relayEvents(call, grant, 0), { 'content-type': 'text/event-stream' });
  }

  /** The HTTP answer's events, then — if it broke before `[DONE]` — the rest from the relay. */
  async *#answerEvents(body: ReadableStream<Uint8Array>, call: Call): AsyncGenerator<string> {
    try {
      for await (const event of readEvents(body)) {
        if (event.data === '[DONE]') {
          yield DONE_EVENT;
          return;
        }
        const seq = event.id === undefined ? Number.NaN : Number(event.id);
        if (Number.isSafeInteger(seq)) call.lastSeq = seq;
        yield uiMessageEvent(Number.isSafeInteger(seq) ? seq : call.lastSeq, event.data);
      }
    } catch (error) {
      if (call.stopped()) throw error; // stop(): not a break
    }
    if (call.stopped()) return;
    // The body broke (network, proxy timeout, serverless limit) or ended without [DONE].
    const grant = await this.#fetchGrant(call);
    yield* this.#relayEvents(call, grant, call.lastSeq + 1);
  }

  /** The stream's chunks from the relay from `fromSeq`, as UI message events, then `[DONE]`. */
  async *#relayEvents(call: Call, firstGrant: ActiveStreamGrant, fromSeq: number): AsyncGenerator<string> {
    let grant: ActiveStreamGrant | undefined = firstGrant;
    const reader = streamstraightClient<string>(
      {
        ...this.#options.reader,
        baseUrl: this.#options.relayUrl ?? firstGrant.relayUrl,
        decoder: (data) => data,
        fetchToken: async () => {
          // The first token comes with the grant; a refresh asks the route again for this stream.
          const token = grant?.token ?? (await this.#fetchGrant(call)).token;
          grant = undefined;
          return token;
        },
      },
      { streamId: firstGrant.streamId, fromSeq, waitForStreamMs: this.#options.waitForStreamMs ?? 10_000 },
    );
    this.#readers.add(reader);
    try {
      for await (const data of reader) {
        call.lastSeq = reader.lastSeq;
        yield uiMessageEvent(reader.lastSeq, data);
      }
    } finally {
      reader.close();
      this.#readers.delete(reader);
    }
    yield DONE_EVENT;
  }

  /** Asks the app's active-stream route for a token to `call.streamId`, through the base class's own reconnect request. */
  async #fetchGrant(call: Call): Promise<ActiveStreamGrant> {
    const streamId = call.streamId as string;
    const signal = this.#begin('grant', call.chatId, undefined);
    const grantCall = this.#calls.get(signal) as Call;
    await super.reconnectToStream({ chatId: call.chatId, abortSignal: signal, headers: { [STREAM_ID_HEADER]: streamId } });
    const response = grantCall.grantResponse;
    const grant = response === undefined ? null : await readGrant(response, `the active-stream route of chat ${call.chatId}`);
    if (grant === null) {
      throw new StreamstraightError(
        'STREAM_NOT_FOUND',
        `The app's active-stream route has no stream ${streamId} for chat ${call.chatId} (it answered 204): keep the chat's active stream id until the next message replaces it.`,
      );
    }
    return grant;
  }

  /** `stop()` with `cancelOnStop`: asks the producer to stop, through the relay. */
  async #cancelAtRelay(call: Call): Promise<void> {
    let reader: StreamReader<string> | undefined;
    try {
      const grant = await this.#fetchGrant(call);
      reader = streamstraightClient<string>(
        { ...this.#options.reader, baseUrl: this.#options.relayUrl ?? grant.relayUrl, token: grant.token, decoder: (data) => data },
        { streamId: grant.streamId, fromSeq: call.lastSeq + 1 },
      );
      await reader.cancel('stopped by the user');
    } catch (error) {
      const failure = StreamstraightError.from(error);
      (this.#options.onError ?? ((problem) => console.warn('[streamstraight] cancelOnStop failed:', problem.message)))(failure);
    } finally {
      reader?.close();
    }
  }
}

/** The same response (status, headers) with another body. */
function withBody(response: Response, events: AsyncGenerator<string>, headers?: Record<string, string>): Response {
  const merged = new Headers(response.headers);
  for (const [name, value] of Object.entries(headers ?? {})) merged.set(name, value);
  merged.delete('content-length');
  merged.delete('content-encoding');
  return new Response(toByteStream(events), { status: response.status, statusText: response.statusText, headers: merged });
}

