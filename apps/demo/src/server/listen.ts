/**
 * Starting and stopping the demo's HTTP servers, with a message a person can act on when a port
 * is taken.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A port the demo could not use; the message says what to do. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** What to call a server in messages, and how its port is configured. */
export interface ServerLabel {
  /** For example `the Hono app`. */
  name: string;
  /** For example `--hono-port`. */
  flag: string;
  /** For example `DEMO_HONO_PORT`. */
  env: string;
}

/**
 * Explains a listen failure.
 * @param error - what `listen` failed with.
 * @param port - the port asked for.
 * @param label - which server.
 * @returns a {@link PortInUseError} for a busy or forbidden port, else `error`.
 */
export function explainListenError(error: unknown, port: number, label: ServerLabel): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new PortInUseError(
      `Port ${port} is already in use, so ${label.name} cannot start. Stop whatever uses it (often an earlier demo still running), or pick another port: ${label.flag} ${port + 100} (or ${label.env}=${port + 100}).`,
    );
  }
  if (code === 'EACCES') {
    return new PortInUseError(`Port ${port} needs privileges ${label.name} does not have. Use a port above 1024: ${label.flag} ${port + 3000}.`);
  }
  return error;
}

/**
 * Listens on `port` and `host`.
 * @param server - the HTTP server.
 * @param port - 0 picks a free port.
 * @param host - the interface.
 * @param label - for the error message.
 * @returns the port it listens on.
 * @throws PortInUseError when the port is taken.
 */
export function listen(server: Server, port: number, host: string, label: ServerLabel): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: unknown) => reject(explainListenError(error, port, label));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops a server: no new connections, open ones (streaming responses too) closed.
 * @param server - the HTTP server.
 * @returns when it is closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The URL to print for a server.
 * @param host - the interface it binds.
 * @param port - its port.
 * @returns `http://localhost:3000` for the wildcard interfaces, else `http://host:port`.
 */
export function displayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}
