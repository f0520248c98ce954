/**
 * A relay stream of strings as a Web `ReadableStream<string>`, read on the server with
 * `@ss/client` (any relay node, resuming at the next chunk after a reconnect), minus its first
 * `skipCharacters` characters.
 */
import { streamstraightClient } from '@ss/client';
import type { RelayAccess } from './relay-access.js';

const identity = (data: string): string => data;

/**
 * Reads `streamId` from the relay, from its first chunk, dropping the first `skipCharacters`
 * characters (counted across chunks, as `text.slice(skipCharacters)` of the whole stream). The
 * stream closes when the relay stream ended `completed` or `cancelled`, and errors with a
 * `StreamstraightError` (`PRODUCER_ERROR`, …) when it ended badly. Cancelling it closes only this
 * reader: the producer goes on.
 *
 * @param access - the relay connection.
 * @param streamId - the relay stream id.
 * @param skipCharacters - characters to drop from the start. Default 0.
 * @returns the stream of strings.
 */
export function readRelayStream(access: RelayAccess, streamId: string, skipCharacters = 0): ReadableStream<string> {
  const reader = streamstraightClient<string>(
    { baseUrl: access.baseUrl, fetchToken: () => access.mintToken(streamId, false), decoder: identity },
    { streamId },
  );
  let toSkip = Number.isFinite(skipCharacters) && skipCharacters > 0 ? Math.floor(skipCharacters) : 0;
  return new ReadableStream<string>(
    {
      async pull(controller) {
        for (;;) {
          let result: IteratorResult<string, undefined>;
          try {
            result = await reader.next();
          } catch (error) {
            controller.error(error);
            return;
          }
          if (result.done) {
            controller.close();
            return;
          }
          let text = result.value;
          if (toSkip > 0) {
            if (text.length <= toSkip) {
              toSkip -= text.length;
              continue;
            }
            text = text.slice(toSkip);
            toSkip = 0;
          }
          controller.enqueue(text);
          return;
        }
      },
      cancel() {
        reader.close();
      },
    },
    { highWaterMark: 0 },
  );
}
