// Reading UI message streams in the transport tests, with the AI SDK's own reader (whichever major
// `ai` resolves to: the ai-v6 run aliases it).
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';

/** The text parts of a message, joined. */
export const textOf = (message: UIMessage | undefined): string =>
  (message?.parts ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');

/** Reads a UI message stream to its end; `onMessage` sees every update. */
export async function readMessage(stream: ReadableStream<UIMessageChunk>, onMessage?: (message: UIMessage) => void): Promise<UIMessage> {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true })) {
    last = message;
    onMessage?.(message);
  }
  if (last === undefined) throw new Error('the stream held no message');
  return last;
}
