/**
 * Web body → Node `ServerResponse`, with backpressure and disconnect detection.
 *
 * When `write()` returns false we wait for `drain` **or** `close` / `error`: waiting for `drain`
 * alone hangs forever when the client goes away mid-write. A client that leaves while we wait for
 * the body's next chunk cancels the body, so its producer learns at once.
 */
import type { ServerResponse } from 'node:http';

const ignore = (): void => {};

/** Resolves true on `drain`, false when the response closed or failed; removes its listeners either way. */
function drained(response: ServerResponse): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (open: boolean) => {
      response.off('drain', onDrain);
      response.off('close', onGone);
      response.off('error', onGone);
      resolve(open && !response.destroyed);
    };
    const onDrain = () => settle(true);
    const onGone = () => settle(false);
    response.on('drain', onDrain);
    response.on('close', onGone);
    response.on('error', onGone);
  });
}

/** How long a cut response may take to flush what was written before its socket is destroyed. */
const CUT_FLUSH_MS = 5_000;

/**
 * Cuts a response whose body failed: what was written still reaches the client, then the
 * connection closes without the end of the body, so the client sees an incomplete response.
 */
function cut(response: ServerResponse): void {
  const socket = response.socket;
  if (socket === null || socket.destroyed) {
    response.destroy();
    return;
  }
  socket.end();
  setTimeout(() => socket.destroy(), CUT_FLUSH_MS).unref();
}

/**
 * Writes a Web body to a Node response, then ends it. Never rejects:
 * - the client goes away → the body is cancelled, and this resolves;
 * - the body errors → what was written is flushed, then the connection is closed without the end
 *   of the body (the client sees a cut response, never a complete one).
 *
 * Headers not yet sent go out with the first write (set them before, or use `writeWebResponse`).
 *
 * @param body - the body, or null for none.
 * @param response - the Node response.
 * @returns a promise that resolves when the body is written or abandoned.
 * @example
 * ```ts
 * response.writeHead(200, { 'content-type': 'text/event-stream' })
 * await writeWebBody(tee.body, response)
 * ```
 */
export async function writeWebBody(body: ReadableStream<Uint8Array> | null, response: ServerResponse): Promise<void> {
  if (body === null) {
    if (!response.destroyed) response.end();
    return;
  }
  if (response.destroyed) {
    await body.cancel().catch(ignore);
    return;
  }
  const reader = body.getReader();
  const onClose = () => {
    reader.cancel().catch(ignore);
  };
  response.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (response.destroyed) return;
      if (!response.write(value) && !(await drained(response))) {
        reader.cancel().catch(ignore);
        return;
      }
    }
    if (!response.destroyed) response.end();
  } catch {
    cut(response);
  } finally {
    response.off('close', onClose);
  }
}
