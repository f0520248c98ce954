/**
 * `Stream-Cursor` values for live reads (the protocol's CDN-collapsing cursor): the number of
 * 20-second intervals since 2024-10-09T00:00:00Z, and strictly more than the cursor the client
 * echoed (plus 1 s – 1 h of random jitter) when that one is not behind the clock.
 */
const EPOCH_MS = Date.UTC(2024, 9, 9);
const INTERVAL_SECONDS = 20;

/**
 * @param clientCursor - the `cursor` query parameter, if any.
 * @param now - the clock. Default `Date.now()`.
 * @returns the cursor to answer with.
 */
export function responseCursor(clientCursor: string | null, now = Date.now()): string {
  const current = Math.floor((now - EPOCH_MS) / (INTERVAL_SECONDS * 1000));
  const client = clientCursor !== null && /^\d{1,15}$/.test(clientCursor) ? Number(clientCursor) : Number.NaN;
  if (!(client >= current)) return String(current);
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600);
  return String(client + Math.max(1, Math.ceil(jitterSeconds / INTERVAL_SECONDS)));
}
