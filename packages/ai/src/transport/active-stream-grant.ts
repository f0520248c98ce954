/**
 * Reading the app's active-stream route answer (`activeStreamHandler` in every adapter).
 */
import type { ActiveStreamGrant } from '@ss/core';
import { type ErrorPayload, StreamstraightError, errorFromPayload } from '@ss/core/protocol';

export type { ActiveStreamGrant };

/**
 * Whether an answer of the resume route is a grant (JSON) rather than a stream the route serves
 * itself (the `resumable-stream` recipe answers SSE, which the transport passes through as is).
 */
export function isGrantResponse(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('application/json');
}

/**
 * Parses a grant answer, or turns an error answer into its `StreamstraightError`.
 * @param response - the route's answer (200 JSON, 204, or an error).
 * @param url - for messages.
 * @returns the grant, or `null` for 204 (nothing to read).
 * @throws StreamstraightError the route's own code for an error answer; `BAD_REQUEST` for a malformed grant.
 */
export async function readGrant(response: Response, url: string): Promise<ActiveStreamGrant | null> {
  if (response.status === 204) return null;
  const body: unknown = await response.json().catch(() => undefined);
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (!response.ok) {
    if (typeof record.error === 'object' && record.error !== null) throw errorFromPayload(record.error as ErrorPayload);
    throw new StreamstraightError(response.status === 403 ? 'FORBIDDEN' : 'INTERNAL', `The active-stream route ${url} answered ${response.status}.`);
  }
  const { streamId, token, relayUrl } = record;
  if (typeof streamId !== 'string' || typeof token !== 'string' || typeof relayUrl !== 'string') {
    throw new StreamstraightError(
      'BAD_REQUEST',
      `The active-stream route ${url} answered ${JSON.stringify(body)}; expected { streamId, token, relayUrl } (serve it with activeStreamHandler).`,
    );
  }
  return { streamId, token, relayUrl };
}
