// The real-provider path of the AI SDK page: @ai-sdk/openai (Chat Completions) against a local
// OpenAI-compatible server — proof that it installs and streams on this Node version.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streamText } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { aiModelFromEnvironment } from './ai-model';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Streams `words` as chat-completion chunks; records each request's body and authorization. */
async function fakeOpenAi(words: string[]): Promise<{ url: string; requests: { body: Record<string, unknown>; auth: string | undefined }[] }> {
  const requests: { body: Record<string, unknown>; auth: string | undefined }[] = [];
  server = createServer(async (request, response) => {
    let text = '';
    for await (const part of request) text += part;
    requests.push({ body: JSON.parse(text) as Record<string, unknown>, auth: request.headers.authorization });
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'tiny', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    for (const [index, word] of words.entries()) response.write(chunk(index === 0 ? { role: 'assistant', content: word } : { content: word }, null));
    response.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

describe('aiModelFromEnvironment', () => {
  it('is the built-in model without OPENAI_API_KEY', () => {
    expect(aiModelFromEnvironment({ DEMO_TOKENS_PER_SECOND: '7' }).name).toMatch(/^built-in .*7 tokens\/s/);
  });

  it('with OPENAI_API_KEY, streams from an OpenAI-compatible server through @ai-sdk/openai', async () => {
    const fake = await fakeOpenAi(['Hello', ',', ' world']);
    const model = aiModelFromEnvironment({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'tiny' });
    expect(model.name).toBe(`tiny via ${fake.url} (@ai-sdk/openai)`);
    const result = streamText({ model: model.create(() => {}), prompt: 'Say hello' });
    expect(await result.text).toBe('Hello, world');
    expect(fake.requests[0]!.auth).toBe('Bearer sk-test');
    expect(fake.requests[0]!.body).toMatchObject({ model: 'tiny', stream: true });
  });
});
