// The launcher as a process: the banner, the three apps' HTTP surface, Ctrl-C, and a busy port.
import { type Server, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../src/page-config';
import { runDemoToExit, startDemo } from './support/demo-process';

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('the demo launcher', () => {
  it('prints every URL and the API key, serves the three apps, and stops cleanly on Ctrl-C', async () => {
    const demo = await startDemo();
    try {
      expect(demo.apiKey).toMatch(/^ss_dev_[\w-]{20,}$/);
      expect((await fetch(`${demo.relayUrl}/healthz`)).status).toBe(200);
      const page = await fetch(demo.pageUrl);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Streamstraight');
      for (const backend of BACKENDS) {
        const app = demo.appUrls[backend];
        // A prompt is required.
        const bad = await fetch(`${app}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: string }).error).toMatch(/prompt/);
        // Tokens only for the app's own streams.
        const foreign = await fetch(`${app}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streamId: 'someone-else' }) });
        expect(foreign.status).toBe(403);
        expect((await fetch(`${app}/api/answers`)).status).toBe(200);
      }
      for (const backend of ['hono', 'express'] as const) {
        // The page (another origin) may call the app and read the stream id header.
        const preflight = await fetch(`${demo.appUrls[backend]}/api/chat`, {
          method: 'OPTIONS',
          headers: { origin: demo.pageUrl, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
        expect(preflight.status).toBeLessThan(300);
        expect(preflight.headers.get('access-control-allow-origin')).toBe(demo.pageUrl);
        const chat = await fetch(`${demo.appUrls[backend]}/api/chat`, {
          method: 'POST',
          headers: { origin: demo.pageUrl, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'cors' }),
        });
        expect(chat.headers.get('access-control-allow-origin')).toBe(demo.pageUrl);
        expect(chat.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('x-stream-id');
        expect(chat.headers.get('x-stream-id')).toMatch(new RegExp(`^${backend}-`));
        await chat.body?.cancel();
      }
    } finally {
      expect(await demo.stop('SIGINT')).toBe(0);
    }
    expect(demo.output()).toContain('[demo] stopped.');
    for (const url of [demo.pageUrl, demo.appUrls.hono, demo.appUrls.express, `${demo.relayUrl}/healthz`]) expect(await refused(url)).toBe(true);
  });

  it('says which port is busy and how to pick another, and exits 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      const { code, output } = await runDemoToExit(['--port', '0', '--relay-port', '0', '--express-port', '0', '--hono-port', String(busy), '--host', '127.0.0.1']);
      expect(code).toBe(1);
      expect(output).toContain(`Port ${busy} is already in use, so the Hono app cannot start`);
      expect(output).toMatch(/--hono-port \d+ \(or DEMO_HONO_PORT=\d+\)/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses a bad flag with the usage text', async () => {
    const { code, output } = await runDemoToExit(['--tokens-per-second', 'fast']);
    expect(code).toBe(2);
    expect(output).toContain('--tokens-per-second must be a number above 0');
  });
});
