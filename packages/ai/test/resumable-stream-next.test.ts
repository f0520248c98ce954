// @ss/ai/server's resumable-stream context in a real Next.js app (test/next-app, `next build` +
// `next start`, from the global setup): the README's recipe routes under /api/resumable, with
// `after` as waitUntil and the relay URL from STREAMSTRAIGHT_API_BASE_URL; a client whose
// connection is dropped mid-answer; the AI SDK's own parser on the resumed body; the DELETE route
// aborting the model call.
import { parseJsonEventStream, readUIMessageStream, type UIMessage, type UIMessageChunk, uiMessageChunkSchema } from 'ai';
import { describe, expect, inject, it } from 'vitest';
import { createResumableStreamContext } from '../src/server.js';
import { API_KEY } from './support/chat-apps.js';
import { answerText } from './support/chat-model.js';
import { until } from './support/streams.js';

/** The AI SDK's client-side parsing: SSE → UI message chunks → the final UI message. */
async function finalMessage(body: ReadableStream<Uint8Array>): Promise<UIMessage> {
  const chunks = parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream<{ success: boolean; value?: UIMessageChunk; error?: unknown }, UIMessageChunk>({
      transform(part, controller) {
        if (!part.success) throw part.error;
        controller.enqueue(part.value as UIMessageChunk);
      },
    }),
  );
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream<UIMessage>({ stream: chunks, terminateOnError: true })) last = message;
  if (last === undefined) throw new Error('no UI message in the stream');
  return last;
}

/** Reads `body` until a text delta arrived. */
async function untilFirstDelta(body: ReadableStream<Uint8Array>): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = body.getReader();
  let seen = '';
  while (!seen.includes('"text-delta"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the answer ended before the first delta');
    seen += new TextDecoder().decode(value);
  }
  return reader;
}

describe('Next.js: the AI SDK resumable-stream recipe on @ss/ai/server (README routes, next build + next start)', () => {
  const appUrl = inject('nextAppUrl');
  const relay = createResumableStreamContext({ waitUntil: null, relay: { apiKey: API_KEY, baseUrl: inject('nextRelayUrl') } });
  const messages: UIMessage[] = [{ id: 'user-1', role: 'user', parts: [{ type: 'text', text: 'What survives a reload?' }] }];

  const post = (id: string, words: number, delayMs: number, signal?: AbortSignal) =>
    fetch(`${appUrl}/api/resumable`, { method: 'POST', body: JSON.stringify({ id, messages, words, delayMs }), headers: { 'content-type': 'application/json' }, signal });
  const state = async (id: string) => (await (await fetch(`${appUrl}/api/resumable/${id}`)).json()) as { activeStreamId: string | null; modelAborted: boolean };
  const activeStreamId = async (id: string) => {
    await until(async () => (await state(id)).activeStreamId !== null, `chat ${id}'s stream id`);
    return (await state(id)).activeStreamId as string;
  };

  it('a client dropped mid-answer resumes through GET /api/resumable/:id/stream to the same final message; once done it answers 204', async () => {
    const expected = await finalMessage((await post('whole', 40, 2)).body as ReadableStream<Uint8Array>);
    expect(expected.parts.some((part) => part.type === 'text' && part.text === answerText(40))).toBe(true);
    expect(expected.parts.some((part) => part.type === 'tool-weather' && 'output' in part)).toBe(true);

    const abortController = new AbortController();
    await untilFirstDelta((await post('cut', 40, 40, abortController.signal)).body as ReadableStream<Uint8Array>); // ~1.7 s of answer
    abortController.abort(); // the connection to Next.js is gone; the answer goes on into the relay
    const streamId = await activeStreamId('cut');
    expect(await relay.hasExistingStream(streamId)).toBe(true); // still being written: a real mid-answer resume

    const resumed = await fetch(`${appUrl}/api/resumable/cut/stream`);
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect((await finalMessage(resumed.body as ReadableStream<Uint8Array>)).parts).toEqual(expected.parts);

    await until(async () => (await relay.hasExistingStream(streamId)) === 'DONE', 'the answer to finish');
    expect((await fetch(`${appUrl}/api/resumable/cut/stream`)).status).toBe(204);
    expect((await fetch(`${appUrl}/api/resumable/never/stream`)).status).toBe(204);
  });

  it('DELETE /api/resumable/:id/stream cancels through the relay: the model call is aborted and the stream ends', async () => {
    const reader = await untilFirstDelta((await post('stop', 400, 20)).body as ReadableStream<Uint8Array>); // ~8 s of answer
    const streamId = await activeStreamId('stop');
    expect((await fetch(`${appUrl}/api/resumable/stop/stream`, { method: 'DELETE' })).status).toBe(204);
    await until(async () => (await state('stop')).modelAborted, 'the model call to be aborted');
    await until(async () => (await relay.hasExistingStream(streamId)) === 'DONE', 'the stream to end');
    expect((await fetch(`${appUrl}/api/resumable/stop/stream`)).status).toBe(204);
    await reader.cancel();
  });
});
