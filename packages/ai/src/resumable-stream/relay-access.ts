/**
 * How the resumable-stream context reaches the relay: the producer options, the stream status
 * request (`GET /v1/streams/:id` with the API key), and client tokens minted locally for the
 * server-side readers.
 */
import { DEFAULT_BASE_URL, StreamstraightError, type StreamInfo, type StreamstraightServerOptions, errorFromPayload, mintClientToken } from '@ss/core';
import { BASE_URL_ENV } from '@ss/core/protocol';

/** The environment variable the API key is read from when `relay.apiKey` is not given. */
export const API_KEY_ENV = 'SS_API_KEY';

/** How long the client tokens of server-side readers live (a new one is minted on each reconnect that needs it). */
const READER_TOKEN_LIFETIME = '10m';

/**
 * Where the relay is and how to talk to it. Every producer option of `@ss/core`'s
 * `streamstraightServer` is accepted (`retries`, `ackTimeoutMs`, `windowSize`, …).
 */
export interface ResumableRelayOptions extends Partial<StreamstraightServerOptions> {
  /** The relay's API key. Default: `$SS_API_KEY`. */
  apiKey?: string;
  /** The relay URL. Default: `$STREAMSTRAIGHT_API_BASE_URL`, else `http://localhost:8787`. */
  baseUrl?: string;
  /** The `fetch` used for status requests. Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

/** The resolved connection: what the producer, the readers and the status requests use. */
export interface RelayAccess {
  readonly apiKey: string;
  readonly baseUrl: string;
  /** Options for `streamstraightServer`. */
  readonly serverOptions: StreamstraightServerOptions;
  /**
   * The relay's view of a stream.
   * @returns its info, or `undefined` when the relay does not know it (never opened, or expired).
   */
  streamInfo(streamId: string): Promise<StreamInfo | undefined>;
  /** A client token for one stream (`cancel`: with the cancel scope). */
  mintToken(streamId: string, cancel: boolean): Promise<string>;
}

function environment(name: string): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Resolves the relay options and their environment defaults.
 * @param options - the `relay` option of the context.
 * @returns the access object.
 * @throws StreamstraightError `UNAUTHORIZED` without an API key, `BAD_REQUEST` for a base URL that is not a URL.
 */
export function resolveRelayAccess(options: ResumableRelayOptions = {}): RelayAccess {
  const { fetch: fetchOption, ...producerOptions } = options;
  const apiKey = options.apiKey ?? environment(API_KEY_ENV);
  if (apiKey === undefined || apiKey === '') {
    throw new StreamstraightError(
      'UNAUTHORIZED',
      `createResumableStreamContext needs the relay's API key: set ${API_KEY_ENV} or pass relay: { apiKey }.`,
    );
  }
  const baseUrl = (options.baseUrl ?? environment(BASE_URL_ENV) ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch (error) {
    throw new StreamstraightError('BAD_REQUEST', `createResumableStreamContext: the relay URL ${JSON.stringify(baseUrl)} is not a URL.`, { cause: error });
  }
  const fetchImplementation = fetchOption ?? ((input, init) => globalThis.fetch(input, init));
  const serverOptions: StreamstraightServerOptions = { ...producerOptions, apiKey, baseUrl };

  return {
    apiKey,
    baseUrl,
    serverOptions,
    async streamInfo(streamId) {
      const url = `${baseUrl}/v1/streams/${encodeURIComponent(streamId)}`;
      let response: Response;
      try {
        response = await fetchImplementation(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' } });
      } catch (error) {
        throw new StreamstraightError(
          'RELAY_UNAVAILABLE',
          `Could not reach the relay at ${baseUrl} for the status of stream ${JSON.stringify(streamId)}: ${
            error instanceof Error ? error.message : String(error)
          }. Check relay.baseUrl / ${BASE_URL_ENV}.`,
          { cause: error },
        );
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (error) {
        throw new StreamstraightError('RELAY_UNAVAILABLE', `The relay at ${baseUrl} answered the status of a stream with HTTP ${response.status} and no JSON.`, {
          cause: error,
        });
      }
      if (response.ok) return body as StreamInfo;
      const error = errorFromPayload((body as { error?: unknown } | null)?.error);
      if (error.code === 'STREAM_NOT_FOUND') return undefined;
      throw error;
    },
    mintToken(streamId, cancel) {
      return mintClientToken({ apiKey, streamIds: [streamId], cancel, expiresIn: READER_TOKEN_LIFETIME });
    },
  };
}
