import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket as TcpSocket } from 'node:net';
import type { ErrorPayload } from '@ss/core/protocol';
import type { RelayMetrics } from './relay-metrics.js';
import type { ThrottledLog } from './throttled-log.js';

/** What the guard needs to know. */
export interface ConnectionGuardOptions {
  /** The Socket.IO path: requests there without a `sid` are new handshakes. */
  socketPath: string;
  /** A TCP connection that has not sent a complete HTTP request by then is destroyed. */
  handshakeTimeoutMs: number;
  /** TCP connections one IP address may hold at once; past it a new one gets a 429 and is closed. 0: off. */
  maxConnectionsPerIp: number;
  /** Refused handshakes one IP may cause per window; past it its new handshakes get a 429 until the window ends. 0: off. */
  maxFailedHandshakesPerIp: number;
  /** The window of `maxFailedHandshakesPerIp`. */
  failedHandshakeWindowMs: number;
  metrics: RelayMetrics;
  throttledLog: ThrottledLog;
}

/** IPs remembered at most (failed handshakes); the oldest are forgotten first. */
const MAX_TRACKED_IPS = 100_000;

/** A plain HTTP 429 with the relay's JSON error body, for a raw socket. */
function rawTooManyRequests(payload: ErrorPayload): string {
  const body = JSON.stringify({ error: payload });
  const retryAfter = Math.max(1, Math.ceil((payload.retryInMs ?? 1000) / 1000));
  return `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: ${retryAfter}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Connection hygiene in front of engine.io and the HTTP API, on the relay's `http.Server`: a
 * deadline for a TCP connection's first complete request (a silent or half-sent connection is
 * destroyed), a cap of connections per IP, and a block on new Socket.IO handshakes from an IP that
 * caused too many refused ones (HTTP 429, `RATE_LIMITED` with `retryInMs`). Sessions already open
 * are never touched. Behind a reverse proxy every client shares the proxy's address: raise the
 * per-IP limits or set them to 0 there.
 */
export class ConnectionGuard {
  private readonly connectionsByIp = new Map<string, number>();
  private readonly failures = new Map<string, { count: number; windowEndsAt: number }>();
  private readonly deadlines = new WeakMap<TcpSocket, ReturnType<typeof setTimeout>>();

  constructor(private readonly options: ConnectionGuardOptions) {}

  /**
   * Puts the guard in front of everything `server` already serves (call after Socket.IO attached).
   * @param server - the relay's HTTP server.
   */
  attach(server: HttpServer): void {
    server.on('connection', (socket: TcpSocket) => this.onConnection(socket));
    const requestListeners = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.sawRequest(request.socket);
      const refusal = this.handshakeRefusal(request);
      if (refusal) {
        response.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': String(Math.max(1, Math.ceil((refusal.retryInMs ?? 1000) / 1000))), Connection: 'close' });
        response.end(JSON.stringify({ error: refusal }));
        return;
      }
      for (const listener of requestListeners) listener.call(server, request, response);
    });
    const upgradeListeners = server.listeners('upgrade') as Array<(request: IncomingMessage, socket: Duplex, head: Buffer) => void>;
    server.removeAllListeners('upgrade');
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sawRequest(request.socket);
      const refusal = this.handshakeRefusal(request);
      if (refusal) {
        socket.end(rawTooManyRequests(refusal));
        return;
      }
      for (const listener of upgradeListeners) listener.call(server, request, socket, head);
    });
  }

  /**
   * Counts a refused Socket.IO handshake against its IP.
   * @param ip - the client's address.
   */
  noteFailedHandshake(ip: string | undefined): void {
    if (!ip || this.options.maxFailedHandshakesPerIp <= 0) return;
    const now = Date.now();
    let entry = this.failures.get(ip);
    if (!entry || entry.windowEndsAt <= now) {
      if (entry) this.failures.delete(ip);
      else if (this.failures.size >= MAX_TRACKED_IPS) this.forgetOldest(now);
      entry = { count: 0, windowEndsAt: now + this.options.failedHandshakeWindowMs };
      this.failures.set(ip, entry);
    }
    entry.count++;
  }

  private forgetOldest(now: number): void {
    for (const [ip, entry] of this.failures) {
      if (entry.windowEndsAt <= now || this.failures.size >= MAX_TRACKED_IPS) this.failures.delete(ip);
      if (this.failures.size < MAX_TRACKED_IPS) return;
    }
  }

  private handshakeRefusal(request: IncomingMessage): ErrorPayload | undefined {
    const url = request.url ?? '';
    if (!url.startsWith(this.options.socketPath) || url.includes('sid=')) return undefined;
    return this.refusalFor(request.socket.remoteAddress);
  }

  /**
   * The refusal for a new authenticated request from `ip` (a Socket.IO handshake, a Durable Streams
   * request) once it caused `maxFailedHandshakesPerIp` refusals in the window; undefined otherwise.
   * @param ip - the client's address.
   */
  refusalFor(ip: string | undefined): ErrorPayload | undefined {
    const { maxFailedHandshakesPerIp } = this.options;
    if (maxFailedHandshakesPerIp <= 0) return undefined;
    const entry = ip === undefined ? undefined : this.failures.get(ip);
    const now = Date.now();
    if (!entry || entry.count < maxFailedHandshakesPerIp || entry.windowEndsAt <= now) return undefined;
    const retryInMs = entry.windowEndsAt - now;
    this.options.metrics.limitRefusals.inc({ limit: 'maxFailedHandshakesPerIp' });
    this.options.throttledLog.write('warn', 'rate-limit:handshakes', { remoteAddress: ip, failures: entry.count, retryInMs }, 'refusing handshakes from an address with too many refused ones');
    return {
      code: 'RATE_LIMITED',
      message: `Too many refused handshakes from this address (${entry.count} in ${this.options.failedHandshakeWindowMs} ms; maxFailedHandshakesPerIp = ${maxFailedHandshakesPerIp}). Fix the credentials, then retry in ${retryInMs} ms.`,
      retryInMs,
    };
  }

  private onConnection(socket: TcpSocket): void {
    const ip = socket.remoteAddress ?? '';
    const { maxConnectionsPerIp, handshakeTimeoutMs } = this.options;
    const held = this.connectionsByIp.get(ip) ?? 0;
    if (maxConnectionsPerIp > 0 && held >= maxConnectionsPerIp) {
      this.options.metrics.limitRefusals.inc({ limit: 'maxConnectionsPerIp' });
      this.options.throttledLog.write('warn', 'rate-limit:connections', { remoteAddress: ip, connections: held }, 'refusing a connection: too many from one address');
      socket.end(
        rawTooManyRequests({
          code: 'RATE_LIMITED',
          message: `Too many connections from this address (${held}; maxConnectionsPerIp = ${maxConnectionsPerIp}). Close some, then retry.`,
          retryInMs: 1000,
        }),
      );
      socket.on('error', () => {});
      return;
    }
    this.connectionsByIp.set(ip, held + 1);
    socket.once('close', () => {
      const left = (this.connectionsByIp.get(ip) ?? 1) - 1;
      if (left > 0) this.connectionsByIp.set(ip, left);
      else this.connectionsByIp.delete(ip);
      this.sawRequest(socket);
    });
    if (handshakeTimeoutMs > 0) {
      const timer = setTimeout(() => {
        this.options.metrics.limitRefusals.inc({ limit: 'handshakeTimeoutMs' });
        socket.destroy();
      }, handshakeTimeoutMs);
      timer.unref();
      this.deadlines.set(socket, timer);
    }
  }

  /** The connection sent a complete request (or closed): its deadline no longer applies. */
  private sawRequest(socket: TcpSocket): void {
    const timer = this.deadlines.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.deadlines.delete(socket);
  }
}
