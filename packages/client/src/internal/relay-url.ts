import { BASE_URL_ENV, DEFAULT_BASE_URL, SOCKET_PATH, StreamstraightError } from '@ss/core/protocol';

/** Where Socket.IO connects: the origin, and the path of the relay's Socket.IO endpoint. */
export interface RelayEndpoint {
  origin: string;
  path: string;
}

/**
 * The relay's base URL: `baseUrl`, else (in Node) `STREAMSTRAIGHT_API_BASE_URL`, else the local
 * default. In a browser `baseUrl` is required: falling back to localhost there would only fail later.
 * @param baseUrl - the configured base URL, if any.
 * @returns the base URL to use.
 */
export function resolveBaseUrl(baseUrl: string | undefined): string {
  if (baseUrl) return baseUrl;
  const fromEnv = typeof process !== 'undefined' && process.env ? process.env[BASE_URL_ENV] : undefined;
  if (fromEnv) return fromEnv;
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new StreamstraightError('BAD_REQUEST', 'Pass `baseUrl` (the relay URL, for example https://relay.example.com) to streamstraightClient().');
  }
  return DEFAULT_BASE_URL;
}

/**
 * Splits a base URL into what socket.io-client needs. A path in the base URL (a relay mounted
 * under `/relay`) goes into Socket.IO's `path`: socket.io-client would read it as a namespace.
 * @param baseUrl - `http(s)://` or `ws(s)://`, with an optional path prefix.
 * @returns the origin and the Socket.IO path.
 */
export function relayEndpoint(baseUrl: string): RelayEndpoint {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (cause) {
    throw new StreamstraightError('BAD_REQUEST', `Invalid relay base URL ${JSON.stringify(baseUrl)}: expected an absolute http(s) or ws(s) URL.`, { cause });
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new StreamstraightError('BAD_REQUEST', `Invalid relay base URL ${JSON.stringify(baseUrl)}: expected an http(s) or ws(s) URL.`);
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  return { origin: `${url.protocol}//${url.host}`, path: `${prefix}${SOCKET_PATH}` };
}
