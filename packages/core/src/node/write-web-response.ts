/**
 * Web `Response` → Node `ServerResponse`: status, headers, then the body through `writeWebBody`.
 */
import type { ServerResponse } from 'node:http';
import { writeWebBody } from './write-web-body.js';

/**
 * Writes a Web `Response` (status, headers, body) to a Node response.
 * @param webResponse - the response to send.
 * @param response - the Node response.
 * @returns a promise that resolves when the body is written or abandoned.
 * @example
 * ```ts
 * await writeWebResponse(Response.json({ ok: true }), res)
 * ```
 */
export function writeWebResponse(webResponse: Response, response: ServerResponse): Promise<void> {
  if (!response.headersSent) {
    response.statusCode = webResponse.status;
    if (webResponse.statusText !== '') response.statusMessage = webResponse.statusText;
    for (const [name, value] of webResponse.headers) if (name !== 'set-cookie') response.setHeader(name, value);
    const cookies = webResponse.headers.getSetCookie();
    if (cookies.length > 0) response.setHeader('set-cookie', cookies);
  }
  return writeWebBody(webResponse.body, response);
}
