/**
 * The module-level pool of producer connections: one warm connection per relay URL, API key and
 * reconnect budget, shared by every `StreamstraightServer` handle of the process and refcounted.
 *
 * Idle policy. A connection nobody holds is kept for {@link IDLE_CLOSE_MS} (15 s) and then
 * closed. Why 15 s: an app server that starts a stream per request (the common case: one handle
 * per chat request, released when the stream ends) finds the connection warm for the next
 * request, so starting a stream costs no handshake; yet a connection left behind by a burst does
 * not linger for minutes. The idle timer is unreferenced and the socket is created with
 * `autoUnref`, so an idle pooled connection never keeps a Node process alive: a script exits as
 * soon as its streams are done, with or without `disconnect()`. An explicit `disconnect()` of the
 * last holder closes the connection at once.
 */
import { ProducerConnection, type ConnectionSettings } from './producer-connection.js';

/** How long a connection with no holder stays open for reuse. */
export const IDLE_CLOSE_MS = 15_000;

interface PoolEntry {
  readonly key: string;
  readonly connection: ProducerConnection;
  refs: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

const pool = new Map<string, PoolEntry>();
const entries = new WeakMap<ProducerConnection, PoolEntry>();

function poolKey(settings: ConnectionSettings): string {
  return JSON.stringify([settings.baseUrl, settings.apiKey, settings.retries, settings.retryBaseMs, settings.retryMaxMs]);
}

function clearIdleTimer(entry: PoolEntry): void {
  if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
  entry.idleTimer = undefined;
}

function startIdleTimer(entry: PoolEntry): void {
  clearIdleTimer(entry);
  entry.idleTimer = setTimeout(() => {
    entry.idleTimer = undefined;
    if (entry.refs > 0) return;
    if (entry.connection.streamCount > 0) startIdleTimer(entry);
    else entry.connection.close();
  }, IDLE_CLOSE_MS);
  entry.idleTimer.unref?.();
}

/**
 * Takes a reference to the pooled connection for `settings`, creating it (and starting its
 * handshake) when there is none or the previous one is closed.
 * @param settings - URL, API key, reconnect budget.
 * @returns the connection; call {@link releaseConnection} when done.
 */
export function acquireConnection(settings: ConnectionSettings): ProducerConnection {
  const key = poolKey(settings);
  let entry = pool.get(key);
  if (entry === undefined || entry.connection.isClosed) {
    const connection = new ProducerConnection(settings);
    const created: PoolEntry = { key, connection, refs: 0, idleTimer: undefined };
    connection.onClosed = () => {
      clearIdleTimer(created);
      if (pool.get(key) === created) pool.delete(key);
    };
    pool.set(key, created);
    entries.set(connection, created);
    entry = created;
  }
  entry.refs++;
  clearIdleTimer(entry);
  return entry.connection;
}

/**
 * Gives back a reference. With no reference left the connection closes after
 * {@link IDLE_CLOSE_MS}, or at once with `immediate`.
 * @param connection - a connection from {@link acquireConnection}.
 * @param immediate - close now when this was the last reference (an explicit `disconnect()`).
 */
export function releaseConnection(connection: ProducerConnection, immediate = false): void {
  const entry = entries.get(connection);
  if (entry === undefined || entry.refs === 0) return;
  entry.refs--;
  if (entry.refs > 0 || connection.isClosed) return;
  if (immediate && connection.streamCount === 0) {
    clearIdleTimer(entry);
    connection.close();
  } else startIdleTimer(entry);
}

/**
 * Closes a connection now if nobody holds it (it is only waiting out its idle delay).
 * @param connection - a pooled connection.
 */
export function closeIfUnused(connection: ProducerConnection): void {
  const entry = entries.get(connection);
  if (entry === undefined || entry.refs > 0 || connection.isClosed || connection.streamCount > 0) return;
  clearIdleTimer(entry);
  connection.close();
}

/** Number of pooled connections (open or connecting). For tests and diagnostics. */
export function pooledConnectionCount(): number {
  return pool.size;
}
