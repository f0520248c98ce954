// The AI SDK page (/ai) in a real browser: `useChat` from @ai-sdk/react with
// StreamstraightChatTransport, against the demo started as the README starts it. The final `parts`
// of each interrupted answer (a reload, a second tab, a response cut for real) must equal those of an
// uninterrupted run of the same prompt, tool call included; Stop must abort the model call on the
// server and end the relay stream `cancelled`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UIMessage } from 'ai';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AiAnswer } from '../src/ai/ai-chat-store';
import { forecastFor } from '../src/ai/weather-tool';
import { answerText, tokenize } from '../src/model/deterministic-model';
import { weatherAnswerText, weatherIntro } from '../src/model/language-model';
import type { AiChatSnapshot } from '../app/ai/ai-chat-page';
import { browserTestsEnabled, launchChromium } from './support/browser';
import { type DemoProcess, startDemo } from './support/demo-process';

/** A weather answer is ~270 tokens: ~5 s at this pace, a wide "mid-answer" window on a busy machine. */
const TOKENS_PER_SECOND = 50;
const WEATHER_PROMPT = 'What is the weather in Lyon today?';
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const screenshotDir = process.env.DEMO_SCREENSHOT_DIR ?? join(repoRoot, '.test-reports', 'screenshots');

let demo: DemoProcess;
let browser: Browser;

const snapshot = (page: Page) => page.evaluate(() => window.__aiChat as AiChatSnapshot);
const textOf = (message: UIMessage | undefined) => (message?.parts ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
const lastAssistant = (chat: AiChatSnapshot) => chat.messages.findLast((message) => message.role === 'assistant');

/** Opens a new chat (`/ai` redirects to `/ai?chat=<uuid>`) and returns its id. */
async function newChat(page: Page): Promise<string> {
  await page.goto(`${demo.pageUrl}/ai`);
  await page.waitForFunction(() => window.__aiChat !== undefined);
  const chatId = new URL(page.url()).searchParams.get('chat');
  expect(chatId).toMatch(/^[0-9a-f-]{36}$/);
  return chatId!;
}

async function ask(page: Page, prompt: string): Promise<void> {
  await page.getByTestId('ai-prompt').fill(prompt);
  await page.getByTestId('ai-send').click();
  await waitForBusy(page);
}

/** Waits until the chat streams (after a send, or once a resume found the answer). */
function waitForBusy(page: Page): Promise<unknown> {
  return page.waitForFunction(() => ['submitted', 'streaming'].includes(window.__aiChat?.status ?? ''), undefined, { timeout: 20_000 });
}

/** Waits until the chat is done streaming, and returns it. */
async function waitForReady(page: Page): Promise<AiChatSnapshot> {
  await page.waitForFunction(() => ['ready', 'error'].includes(window.__aiChat?.status ?? ''), undefined, { timeout: 30_000 });
  return snapshot(page);
}

/** Waits until the answer shows the weather tool's result and `characters` of the text after it. */
function waitForTextAfterTool(page: Page, characters: number): Promise<unknown> {
  return page.waitForFunction(
    (least) => {
      const message = window.__aiChat?.messages.findLast((candidate) => candidate.role === 'assistant');
      const parts = message?.parts ?? [];
      const tool = parts.findIndex((part) => part.type === 'tool-weather' && (part as { state?: string }).state === 'output-available');
      const after = parts.slice(tool + 1).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
      return tool !== -1 && after.length >= least;
    },
    characters,
    { timeout: 20_000 },
  );
}

/** The chat as the app saved it, and what happened to its answers on the server. */
async function savedChat(chatId: string): Promise<{ messages: UIMessage[]; activeStreamId: string | null; answers: AiAnswer[] }> {
  const response = await fetch(`${demo.pageUrl}/api/ai-chat/${chatId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { messages: UIMessage[]; activeStreamId: string | null; answers: AiAnswer[] };
}

/** The relay's view of a stream (`GET /v1/streams/:id` with the API key). */
async function relayStream(streamId: string): Promise<{ status: string; endReason?: string; lastSeq: number }> {
  const response = await fetch(`${demo.relayUrl}/v1/streams/${encodeURIComponent(streamId)}`, { headers: { authorization: `Bearer ${demo.apiKey}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; endReason?: string; lastSeq: number };
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** WebSockets a page opens to the relay (through its reader link): the transport reading the relay. */
function relaySockets(page: Page): string[] {
  const opened: string[] = [];
  page.on('websocket', (socket) => {
    if (socket.url().includes('/relay/link/')) opened.push(socket.url());
  });
  return opened;
}

describe.skipIf(!browserTestsEnabled)('the AI SDK page (useChat + StreamstraightChatTransport) in Chromium', () => {
  /** The parts of the uninterrupted answer to WEATHER_PROMPT: what every interrupted run must end with. */
  let expectedParts: UIMessage['parts'];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startDemo(['--tokens-per-second', String(TOKENS_PER_SECOND)]), launchChromium()]);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('an uninterrupted answer: text, the weather tool call with its result, text — from the HTTP response alone; saved by the app', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(demo.pageUrl);
      await page.getByTestId('ai-page-link').click(); // the main page links here
      await page.waitForURL(/\/ai\?chat=/);
      await page.waitForFunction(() => window.__aiChat !== undefined);
      const chatId = new URL(page.url()).searchParams.get('chat')!;
      const sockets = relaySockets(page);
      await ask(page, WEATHER_PROMPT);
      const chat = await waitForReady(page);
      expect(chat.status).toBe('ready');
      expect(chat.error).toBeUndefined();
      expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
      const message = lastAssistant(chat)!;
      const forecast = forecastFor('Lyon');
      expect(message.parts.filter((part) => part.type !== 'step-start')).toEqual([
        { type: 'text', text: weatherIntro('Lyon'), state: 'done' },
        expect.objectContaining({ type: 'tool-weather', state: 'output-available', input: { city: 'Lyon' }, output: forecast }),
        { type: 'text', text: weatherAnswerText(WEATHER_PROMPT, forecast), state: 'done' },
      ]);
      expect(await page.getByTestId('ai-tool-weather').getAttribute('data-state')).toBe('output-available');
      expect(await page.getByTestId('ai-tool-weather').textContent()).toContain(`Lyon: ${forecast.forecast}, ${forecast.celsius} °C`);
      expect(sockets).toEqual([]); // nothing was read from the relay: the response carried it all
      expectedParts = message.parts;

      const saved = await savedChat(chatId);
      expect(saved.messages.at(-1)?.parts).toEqual(expectedParts); // toUIMessageStream's onEnd saved it
      expect(await relayStream(saved.activeStreamId!)).toMatchObject({ status: 'ended', endReason: 'completed' });
      expect(saved.answers[0]).toMatchObject({ finish: { cancelled: false, relay: 'ok' } });
      expect(saved.answers[0]!.modelCalls.map((call) => call.outcome)).toEqual(['completed', 'completed']);
    } finally {
      await context.close();
    }
  });

  it('reload mid-answer, and a second tab opened mid-answer: both end with the same parts as the uninterrupted run, tool part included', async () => {
    expect(expectedParts).toBeDefined();
    const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    try {
      const page = await context.newPage();
      const chatId = await newChat(page);
      await ask(page, WEATHER_PROMPT);
      await waitForTextAfterTool(page, 30); // the tool result is shown, the text after it is streaming
      const secondTab = await context.newPage();
      await secondTab.goto(`${demo.pageUrl}/ai?chat=${chatId}`);
      await waitForBusy(secondTab); // it joined the answer while it was being written

      const before = textOf(lastAssistant(await snapshot(page)));
      await page.reload();
      // The question is on the page at once: the app saved it and the server rendered it.
      expect(await page.locator('[data-testid=ai-message][data-role=user]').count()).toBe(1);
      await waitForBusy(page); // useChat({ resume: true }) found the answer being written
      await screenshot(page, 'ai-resumed-mid-answer');
      const [reloaded, second] = await Promise.all([waitForReady(page), waitForReady(secondTab)]);
      const expectedText = expectedParts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
      expect(before.length).toBeLessThan(expectedText.length); // it really reloaded mid-answer
      for (const chat of [reloaded, second]) {
        expect(chat.status).toBe('ready');
        expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
        expect(lastAssistant(chat)!.parts).toEqual(expectedParts);
      }
      expect(await page.getByTestId('ai-tool-weather').getAttribute('data-state')).toBe('output-available');
      expect(await page.locator('.log').textContent()).toContain('Resumed the answer being written');
      await screenshot(page, 'ai-after-reload');
      expect((await savedChat(chatId)).messages.at(-1)?.parts).toEqual(expectedParts);
    } finally {
      await context.close();
    }
  });

  it('the HTTP response cut mid-answer (its socket destroyed): the transport continues from the relay — same parts, no duplicated text, no error', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const chatId = await newChat(page);
      const sockets = relaySockets(page);
      const failedChatRequests: string[] = [];
      page.on('requestfailed', (request) => {
        if (request.url().endsWith('/api/ai-chat')) failedChatRequests.push(request.failure()?.errorText ?? 'failed');
      });
      await ask(page, WEATHER_PROMPT);
      await waitForTextAfterTool(page, 30);
      const [cutResponse] = await Promise.all([page.waitForResponse((response) => response.url().endsWith('/cut')), page.getByTestId('ai-cut').click()]);
      const textAtCut = textOf(lastAssistant(await snapshot(page)));
      expect(await cutResponse.json()).toEqual({ cut: 1 }); // one real response, its TCP socket destroyed
      const chat = await waitForReady(page);
      expect(chat.error).toBeUndefined();
      expect(chat.status).toBe('ready');
      expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
      expect(lastAssistant(chat)!.parts).toEqual(expectedParts);
      expect(textAtCut.length).toBeLessThan(textOf(lastAssistant(chat)).length); // cut mid-answer
      expect(failedChatRequests).toHaveLength(1); // the browser saw the response break
      expect(sockets.length).toBeGreaterThanOrEqual(1); // and the rest came from the relay
      expect((await savedChat(chatId)).messages.at(-1)?.parts).toEqual(expectedParts);
    } finally {
      await context.close();
    }
  });

  it('Stop with cancelOnStop: the model call is aborted on the server and the relay stream ends cancelled', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const chatId = await newChat(page);
      expect((await fetch(`${demo.pageUrl}/api/ai-chat/${chatId}/stream`)).status).toBe(204); // nothing to resume yet
      const prompt = 'Why do LLM answers need resumable streams?';
      await ask(page, prompt);
      await page.waitForFunction(() => (window.__aiChat?.messages.at(-1)?.parts ?? []).some((part) => part.type === 'text' && part.text.length > 40));
      await page.getByTestId('ai-stop').click();
      const chat = await waitForReady(page);
      const shown = textOf(lastAssistant(chat));
      expect(answerText(prompt).startsWith(shown)).toBe(true);
      expect(shown.length).toBeLessThan(answerText(prompt).length);

      // On the server: the model call saw its abort signal, the tee ended cancelled, and so did the relay stream.
      await expect
        .poll(async () => (await savedChat(chatId)).answers[0], { timeout: 10_000, interval: 100 })
        .toMatchObject({ modelCalls: [{ outcome: 'aborted' }], finish: { cancelled: true, relay: 'ok' } });
      const saved = await savedChat(chatId);
      const [answer] = saved.answers;
      expect(answer!.modelCalls[0]!.tokens).toBeLessThan(tokenize(answerText(prompt)).length / 2); // stopped well before the end
      expect(await relayStream(saved.activeStreamId!)).toMatchObject({ status: 'ended', endReason: 'cancelled' });
      expect((await fetch(`${demo.pageUrl}/api/ai-chat/${chatId}/stream`)).status).toBe(204); // a finished answer is not replayed
    } finally {
      await context.close();
    }
  });
});
