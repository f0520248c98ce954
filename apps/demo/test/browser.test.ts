// The demo in a real browser (Chromium + playwright-core), started as the README starts it, for
// each app server: reload, close and reopen, a cut connection, and Stop — against the exact answer
// the built-in model gives, the relay's stored stream, and the app's saved answers.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamstraightClient } from '@ss/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SavedAnswer } from '../src/answers/answer-store';
import { answerText, tokenize } from '../src/model/deterministic-model';
import { BACKENDS, type Backend } from '../src/page-config';
import { browserTestsEnabled, launchChromium } from './support/browser';
import { type DemoProcess, startDemo } from './support/demo-process';

/**
 * Fast enough to keep the suite short, slow enough that "mid-stream" stays a wide window on a busy
 * two-core machine (an answer is ~250 tokens: ~5 s).
 */
const TOKENS_PER_SECOND = 50;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const screenshotDir = process.env.DEMO_SCREENSHOT_DIR ?? join(repoRoot, '.test-reports', 'screenshots');

let demo: DemoProcess;
let browser: Browser;

const streamUrl = (backend: Backend, streamId: string) => `${demo.pageUrl}/?backend=${backend}&stream=${encodeURIComponent(streamId)}`;

/** Opens the page on `backend`, sends `prompt`, and returns the stream id the page put in its URL. */
async function ask(page: Page, backend: Backend, prompt: string): Promise<string> {
  await page.goto(`${demo.pageUrl}/?backend=${backend}`);
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('send').click();
  await page.waitForURL(/[?&]stream=/);
  const streamId = new URL(page.url()).searchParams.get('stream');
  expect(streamId).toMatch(new RegExp(`^${backend}-`));
  return streamId!;
}

const shownText = async (page: Page) => (await page.getByTestId('answer').textContent()) ?? '';
const shownChunks = async (page: Page) => Number(await page.getByTestId('chunks').getAttribute('data-chunks'));

function waitForChunks(page: Page, count: number): Promise<unknown> {
  return page.waitForFunction((least) => Number(document.querySelector('[data-testid=chunks]')?.getAttribute('data-chunks')) >= least, count, {
    timeout: 20_000,
  });
}

/** Waits until the page's reader finished, and checks how the stream ended. */
async function waitForEnd(page: Page, reason: 'completed' | 'cancelled'): Promise<void> {
  const status = page.getByTestId('status');
  await page.waitForSelector('[data-testid=status][data-done=true]', { timeout: 30_000 });
  expect(await status.getAttribute('data-end-reason')).toBe(reason);
  expect(await status.textContent()).toContain(reason === 'cancelled' ? 'stopped' : 'completed');
}

/** The stream as the relay stores it, read from the start by a Node reader with a token from the app. */
async function relayStream(backend: Backend, streamId: string): Promise<{ text: string; endReason: string | undefined }> {
  const reader = streamstraightClient<string>(
    {
      baseUrl: demo.relayUrl,
      fetchToken: async () => {
        const response = await fetch(`${demo.appUrls[backend]}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streamId }) });
        expect(response.status).toBe(200);
        return ((await response.json()) as { token: string }).token;
      },
    },
    { streamId },
  );
  let text = '';
  for await (const token of reader) text += token;
  return { text, endReason: reader.endReason };
}

async function savedRows(backend: Backend, streamId: string): Promise<SavedAnswer[]> {
  const response = await fetch(`${demo.appUrls[backend]}/api/answers`);
  const { answers } = (await response.json()) as { answers: SavedAnswer[] };
  return answers.filter((answer) => answer.streamId === streamId);
}

/** Waits for the app's onFinish to save the answer, then a little longer, so a second save would show too. */
async function waitForSave(backend: Backend, streamId: string): Promise<SavedAnswer[]> {
  await expect.poll(() => savedRows(backend, streamId).then((rows) => rows.length), { timeout: 20_000, interval: 100 }).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 400));
  return savedRows(backend, streamId);
}

/** The saved-answers list on the page shows this stream exactly once, with this status. */
async function expectListedOnce(page: Page, streamId: string, status: string): Promise<void> {
  const rows = page.locator(`[data-testid=saved-answer][data-stream-id="${streamId}"]`);
  await expect.poll(() => rows.count(), { timeout: 10_000, interval: 200 }).toBe(1);
  expect(await rows.getAttribute('data-status')).toBe(status);
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage });
}

describe.skipIf(!browserTestsEnabled)('the demo in Chromium', () => {
  beforeAll(async () => {
    [demo, browser] = await Promise.all([startDemo(['--tokens-per-second', String(TOKENS_PER_SECOND)]), launchChromium()]);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  describe.each(BACKENDS)('through the %s app', (backend) => {
    it('reload mid-stream: the text continues with no repeat and no gap, equal to a second tab and to the relay; saved once', async () => {
      const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
      try {
        const prompt = `Why should ${backend} answers survive a reload?`;
        const expected = answerText(prompt);
        const asker = await context.newPage();
        const streamId = await ask(asker, backend, prompt);
        const follower = await context.newPage(); // a second tab that never reloads
        await follower.goto(streamUrl(backend, streamId));

        await waitForChunks(asker, 20);
        await screenshot(asker, `${backend}-mid-stream`);
        const before = await shownText(asker);
        await asker.reload();
        const resumed = await asker.getByTestId('resumed').textContent();
        const resumedAt = Number(/chunk (\d+)/.exec(resumed ?? '')?.[1]);
        expect(resumedAt).toBeGreaterThanOrEqual(20);
        expect(resumedAt).toBeLessThan(tokenize(expected).length); // it reloaded mid-stream
        expect((await shownText(asker)).startsWith(before)).toBe(true);
        await waitForChunks(asker, Math.min(resumedAt + 60, tokenize(expected).length));
        await screenshot(asker, `${backend}-resumed`);

        await waitForEnd(asker, 'completed');
        await waitForEnd(follower, 'completed');
        await screenshot(asker, `${backend}-after-reload`);
        expect(await shownText(asker)).toBe(expected);
        expect(await shownText(follower)).toBe(expected);
        expect(await shownChunks(asker)).toBe(tokenize(expected).length);
        expect(await relayStream(backend, streamId)).toEqual({ text: expected, endReason: 'completed' });

        const rows = await waitForSave(backend, streamId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ status: 'completed', text: expected, prompt, backend });
        await expectListedOnce(asker, streamId, 'completed');
        expect(await asker.getByTestId('question').textContent()).toBe(prompt);
      } finally {
        await context.close();
      }
    });

    it('close the only tab mid-stream, reopen the link after the answer ended: the whole answer, saved once', async () => {
      const prompt = `Close the tab while ${backend} is answering`;
      const expected = answerText(prompt);
      const first = await browser.newContext();
      const page = await first.newPage();
      const streamId = await ask(page, backend, prompt);
      await waitForChunks(page, 20);
      await first.close(); // the only tab is gone
      expect(await savedRows(backend, streamId)).toHaveLength(0); // still generating

      const rows = await waitForSave(backend, streamId); // finished and saved with no tab open
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'completed', text: expected });

      const second = await browser.newContext();
      try {
        const reopened = await second.newPage();
        await reopened.goto(streamUrl(backend, streamId));
        await waitForEnd(reopened, 'completed');
        expect(await shownText(reopened)).toBe(expected);
        expect(await reopened.getByTestId('resumed').count()).toBe(0); // a fresh tab reads from the start
        await expectListedOnce(reopened, streamId, 'completed');
        expect(await savedRows(backend, streamId)).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    it('"Drop connection" cuts the socket mid-stream: the reader resumes with no repeat and no gap', async () => {
      const context = await browser.newContext();
      try {
        const prompt = `Drop the ${backend} connection halfway`;
        const expected = answerText(prompt);
        const page = await context.newPage();
        const streamId = await ask(page, backend, prompt);
        await waitForChunks(page, 30);
        const resuming = page.waitForSelector('[data-testid=status][data-phase=resuming]', { timeout: 10_000 });
        const [dropResponse] = await Promise.all([page.waitForResponse((response) => response.url().endsWith('/drop')), page.getByTestId('drop').click()]);
        expect(await dropResponse.json()).toEqual({ dropped: 1 }); // one real socket, destroyed
        await resuming;
        await waitForEnd(page, 'completed');
        expect(await shownText(page)).toBe(expected);
        expect(await shownChunks(page)).toBe(tokenize(expected).length);
        expect(await page.locator('.log').textContent()).toMatch(/Connection lost — resuming/);
        expect((await waitForSave(backend, streamId)).map((row) => row.status)).toEqual(['completed']);
      } finally {
        await context.close();
      }
    });

    it('"Stop" cancels through the relay: the model stops, every tab shows it, the saved answer says stopped', async () => {
      const context = await browser.newContext();
      try {
        const prompt = `Stop ${backend} before the end`;
        const expected = answerText(prompt);
        const asker = await context.newPage();
        const streamId = await ask(asker, backend, prompt);
        const follower = await context.newPage();
        await follower.goto(streamUrl(backend, streamId));
        await waitForChunks(follower, 1); // the second tab is following live
        await asker.getByTestId('stop').click();

        await waitForEnd(asker, 'cancelled');
        await waitForEnd(follower, 'cancelled');
        const shown = await shownText(asker);
        expect(await shownText(follower)).toBe(shown);
        expect(expected.startsWith(shown)).toBe(true);
        // The model stopped within moments of the press (50 chunks is a second here), well before the end.
        const pressedAt = Number(/Stop pressed at chunk (\d+)/.exec((await asker.locator('.log').textContent()) ?? '')?.[1]);
        expect(await shownChunks(asker)).toBeLessThanOrEqual(pressedAt + 50);
        expect(await shownChunks(asker)).toBeLessThan(tokenize(expected).length - 20);
        expect(await relayStream(backend, streamId)).toEqual({ text: shown, endReason: 'cancelled' });

        const rows = await waitForSave(backend, streamId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ status: 'stopped', text: shown });
        await expectListedOnce(asker, streamId, 'stopped');
        await expectListedOnce(follower, streamId, 'stopped');
      } finally {
        await context.close();
      }
    });
  });

  it('reads well on a phone', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      const prompt = 'What does this demo show on a phone?';
      await ask(page, 'hono', prompt);
      await waitForChunks(page, 60);
      // Nothing wider than the screen: no sideways scrolling.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, 'phone-mid-stream', false);
      await waitForEnd(page, 'completed');
    } finally {
      await context.close();
    }
  });
});
