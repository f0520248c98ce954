/**
 * Demo only: the page's path to the relay, with a switch to cut it.
 *
 * Each page load reads through `/relay/link/<linkId>` on the web server, which forwards the
 * WebSocket to the relay byte for byte. `POST /relay/link/<linkId>/drop` destroys that link's TCP
 * sockets — the browser sees an abnormal close, exactly as when a train enters a tunnel — and
 * refuses new connections on it for `downMs`, so the page shows "resuming" and then catches up from
 * the next chunk. In production the page connects to the relay (or a path in front of it) directly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';

/** Path prefix of reader links on the web server. */
export const READER_LINK_PREFIX = '/relay/link/';

/** How long a dropped link stays down by default, in ms. */
export const DEFAULT_DOWN_MS = 1500;

const LINK_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface Link {
  /** Each forwarded connection: the browser's socket and the one to the relay. */
  connections: Set<{ browser: Duplex; relay: Socket }>;
  downUntil: number;
}

/** The reader links of one web server. */
export class ReaderLinks {
  readonly #relay: URL;
  readonly #links = new Map<string, Link>();

  /** @param relayUrl - where the relay listens (`http://127.0.0.1:8787`). */
  constructor(relayUrl: string) {
    this.#relay = new URL(relayUrl);
  }

  /**
   * Forwards a WebSocket upgrade on `/relay/link/<id>/socket.io/…` to the relay's `/socket.io/…`.
   * @returns false when the path is not a reader link (the caller handles it).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const parsed = this.#parse(request.url);
    if (parsed === undefined || !parsed.rest.startsWith('/socket.io/')) return false;
    const link = this.#link(parsed.linkId);
    if (Date.now() < link.downUntil) {
      socket.destroy();
      return true;
    }
    const upstream: Socket = connect(Number(this.#relay.port || 80), this.#relay.hostname);
    const connection = { browser: socket, relay: upstream };
    link.connections.add(connection);
    const forget = () => {
      link.connections.delete(connection);
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    upstream.on('connect', () => {
      const lines = [`${request.method} ${parsed.rest}${parsed.query} HTTP/1.1`];
      for (let index = 0; index < request.rawHeaders.length; index += 2) {
        lines.push(`${request.rawHeaders[index]}: ${request.rawHeaders[index + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    return true;
  }

  /**
   * Answers `POST /relay/link/<id>/drop[?downMs=1500]`: cuts the link's sockets.
   * @returns false when the request is not for a reader link.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean {
    const parsed = this.#parse(request.url);
    if (parsed === undefined) return false;
    if (request.method !== 'POST' || parsed.rest !== '/drop') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Reader links carry WebSockets; POST …/drop cuts one.' }));
      return true;
    }
    const downMs = Number(new URLSearchParams(parsed.query.slice(1)).get('downMs') ?? DEFAULT_DOWN_MS);
    const dropped = this.drop(parsed.linkId, Number.isFinite(downMs) ? Math.min(Math.max(downMs, 0), 30_000) : DEFAULT_DOWN_MS);
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ dropped }));
    return true;
  }

  /**
   * Destroys every socket of a link and keeps it down for `downMs`.
   * @returns how many browser connections were cut.
   */
  drop(linkId: string, downMs = DEFAULT_DOWN_MS): number {
    const link = this.#link(linkId);
    link.downUntil = Date.now() + downMs;
    const connections = [...link.connections];
    for (const { browser, relay } of connections) {
      browser.destroy();
      relay.destroy();
    }
    return connections.length;
  }

  /** Cuts every link (at shutdown). */
  close(): void {
    for (const linkId of [...this.#links.keys()]) this.drop(linkId, 0);
    this.#links.clear();
  }

  #link(linkId: string): Link {
    let link = this.#links.get(linkId);
    if (link === undefined) {
      // Links are per page load; forget idle ones so the map does not grow without bound.
      for (const [id, old] of this.#links) if (old.connections.size === 0 && old.downUntil < Date.now()) this.#links.delete(id);
      link = { connections: new Set(), downUntil: 0 };
      this.#links.set(linkId, link);
    }
    return link;
  }

  /** `/relay/link/<id>/socket.io/?EIO=4…` → `{ linkId, rest: '/socket.io/', query: '?EIO=4…' }`. */
  #parse(url: string | undefined): { linkId: string; rest: string; query: string } | undefined {
    if (url === undefined || !url.startsWith(READER_LINK_PREFIX)) return undefined;
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const query = queryAt === -1 ? '' : url.slice(queryAt);
    const slash = path.indexOf('/', READER_LINK_PREFIX.length);
    const linkId = path.slice(READER_LINK_PREFIX.length, slash === -1 ? undefined : slash);
    if (!LINK_ID.test(linkId)) return undefined;
    return { linkId, rest: slash === -1 ? '' : path.slice(slash), query };
  }
}
