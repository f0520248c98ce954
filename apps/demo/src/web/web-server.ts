/**
 * The web server: the Next.js app (the pages and their API routes) in this process, plus the
 * pages' reader links to the relay (see reader-link.ts) and the AI SDK page's response cuts (see
 * chat-response-cuts.ts).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import next from 'next';
import { type ServerLabel, closeServer, listen } from '../server/listen';
import { ChatResponseCuts } from './chat-response-cuts';
import { ReaderLinks } from './reader-link';

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  /** The Next.js project folder (apps/demo), holding the `.next` build. */
  dir: string;
  /** Interface to bind. */
  host: string;
  /** Port; 0 picks one. */
  port: number;
  /** The relay, as reachable from this process. */
  relayUrl: string;
  /** For messages. */
  label: ServerLabel;
}

/** A running web server. */
export interface WebServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens first (so a busy port is reported before Next.js spends time starting), then prepares
 * the Next.js app from its production build and serves it.
 * @param options - see {@link WebServerOptions}.
 * @returns the running server.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const links = new ReaderLinks(options.relayUrl);
  const cuts = new ChatResponseCuts();
  let handle: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | undefined;
  const server: Server = createServer((request, response) => {
    if (links.handleRequest(request, response)) return;
    if (cuts.handleRequest(request, response)) return;
    if (handle === undefined) {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('Starting…');
      return;
    }
    cuts.track(request, response);
    handle(request, response).catch((error: unknown) => {
      console.error('[next] request failed:', error);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  server.on('upgrade', (request, socket, head) => {
    if (!links.handleUpgrade(request, socket, head)) socket.destroy();
  });
  const port = await listen(server, options.port, options.host, options.label);
  const app = next({ dev: false, dir: options.dir, hostname: options.host, port });
  try {
    await app.prepare();
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  handle = app.getRequestHandler();
  return {
    port,
    async close() {
      links.close();
      await closeServer(server);
      await app.close();
    },
  };
}
