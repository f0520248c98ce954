/**
 * `@ss/core/node`: the Node HTTP bridge, written once for every Node framework adapter.
 * `IncomingMessage` → Web `Request` (with a disconnect signal); Web body → `ServerResponse` with
 * backpressure and disconnect detection. Named exports only.
 */
export { toWebRequest } from './node/to-web-request.js';
export type { ToWebRequestOptions } from './node/to-web-request.js';
export { writeWebBody } from './node/write-web-body.js';
export { writeWebResponse } from './node/write-web-response.js';
