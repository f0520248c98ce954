import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { modelFromEnvironment } from './model';
import { openAiModel } from './openai-model';

/** A local OpenAI-compatible server: streams `words` as chat-completion chunks, one every `delayMs`. */
async function fakeOpenAi(words: string[], delayMs = 0): Promise<{ url: string; requests: { body: unknown; auth: string | undefined }[]; closedEarly: () => boolean; close(): Promise<void> }> {
  const requests: { body: unknown; auth: string | undefined }[] = [];
  let closedEarly = false;
  const readBody = async (request: IncomingMessage) => {
    let text = '';
    for await (const part of request) text += part;
    return JSON.parse(text) as unknown;
  };
  const server: Server = createServer(async (request, response) => {
    requests.push({ body: await readBody(request), auth: request.headers.authorization });
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    let finished = false;
    response.on('close', () => {
      if (!finished) closedEarly = true;
    });
    for (const [index, word] of words.entries()) {
      if (response.destroyed) return;
      const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'fake', choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content: word } : { content: word }, finish_reason: null }] };
      response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    response.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'fake', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    response.end('data: [DONE]\n\n');
    finished = true;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    closedEarly: () => closedEarly,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe('openAiModel', () => {
  it('streams the deltas of an OpenAI-compatible server at OPENAI_BASE_URL, with the key and the model asked for', async () => {
    const server = await fakeOpenAi(['Hello', ',', ' world']);
    servers.push(server);
    const model = modelFromEnvironment({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url, OPENAI_MODEL: 'tiny' });
    expect(model.name).toBe(`tiny via ${server.url}`);
    const tokens: string[] = [];
    for await (const token of model.stream('Say hello')) tokens.push(token);
    expect(tokens).toEqual(['Hello', ',', ' world']);
    expect(server.requests[0]!.auth).toBe('Bearer sk-test');
    expect(server.requests[0]!.body).toMatchObject({ model: 'tiny', stream: true, messages: [{ role: 'system' }, { role: 'user', content: 'Say hello' }] });
  });

  it('stops the HTTP call to the model when the reader stops (the adapter breaks out of the iteration)', async () => {
    const server = await fakeOpenAi(Array.from({ length: 200 }, (_, index) => ` w${index}`), 10);
    servers.push(server);
    const tokens: string[] = [];
    for await (const token of openAiModel({ apiKey: 'sk-test', baseURL: server.url }).stream('long')) {
      tokens.push(token);
      if (tokens.length === 3) break;
    }
    expect(tokens).toHaveLength(3);
    await expect.poll(() => server.closedEarly()).toBe(true);
  });

  it('is chosen only when OPENAI_API_KEY is set', () => {
    expect(modelFromEnvironment({}).name).toMatch(/^built-in/);
    expect(modelFromEnvironment({ DEMO_TOKENS_PER_SECOND: '7' }).name).toContain('7 tokens/s');
    expect(modelFromEnvironment({ OPENAI_API_KEY: 'sk' }).name).toBe('gpt-4o-mini via OpenAI');
  });
});
