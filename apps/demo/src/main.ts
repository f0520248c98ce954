/**
 * `pnpm demo`: starts a relay on the memory store, the Hono and Express apps, and the Next.js app
 * that serves the page; prints the URLs; Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { createRelay, memoryStore } from '@ss/relay';
import { createExpressApp } from './apps/express-app';
import { createHonoApp } from './apps/hono-app';
import { ConfigError, type DemoConfig, USAGE, readConfig } from './config';
import { modelFromEnvironment } from './model/model';
import { PortInUseError, closeServer, displayUrl, listen } from './server/listen';
import { type WebServer, startWebServer } from './web/web-server';

/** apps/demo: holds the Next.js build (`.next`). */
const demoDir = fileURLToPath(new URL('..', import.meta.url));

type Stop = () => Promise<unknown>;

/** This machine's first IPv4 address on a network, for opening the page from a phone. */
function networkAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return undefined;
}

async function start(config: DemoConfig, stops: Stop[]): Promise<void> {
  const apiKey = config.apiKey ?? `ss_dev_${randomBytes(18).toString('base64url')}`;
  const environment = { ...process.env, DEMO_TOKENS_PER_SECOND: String(config.tokensPerSecond) };
  const model = modelFromEnvironment(environment);

  const relay = createRelay({ apiKeys: [apiKey], store: memoryStore() });
  const relayServer = relay.httpServer;
  stops.push(() => relay.close());
  const relayPort = await listen(relayServer, config.relayPort, config.host, { name: 'the relay', flag: '--relay-port', env: 'DEMO_RELAY_PORT' });
  // The apps run in this process: they reach the relay on the loopback interface.
  const relayUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host}:${relayPort}`;

  const hono: Server = createServer(getRequestListener(createHonoApp({ apiKey, relayUrl, model }).fetch));
  stops.push(() => closeServer(hono));
  const honoPort = await listen(hono, config.honoPort, config.host, { name: 'the Hono app', flag: '--hono-port', env: 'DEMO_HONO_PORT' });

  const express: Server = createServer(createExpressApp({ apiKey, relayUrl, model }));
  stops.push(() => closeServer(express));
  const expressPort = await listen(express, config.expressPort, config.host, { name: 'the Express app', flag: '--express-port', env: 'DEMO_EXPRESS_PORT' });

  // The Next.js app's route handlers read their settings from the environment, as they would under `next start`.
  Object.assign(process.env, {
    SS_API_KEY: apiKey,
    STREAMSTRAIGHT_API_BASE_URL: relayUrl,
    DEMO_TOKENS_PER_SECOND: String(config.tokensPerSecond),
    DEMO_HONO_PORT: String(honoPort),
    DEMO_EXPRESS_PORT: String(expressPort),
    DEMO_MODEL_NAME: model.name,
    NEXT_TELEMETRY_DISABLED: '1',
  });
  let web: WebServer | undefined;
  const webLabel = { name: 'the web page (Next.js app)', flag: '--port', env: 'DEMO_PORT' };
  stops.push(() => web?.close() ?? Promise.resolve());
  web = await startWebServer({ dir: demoDir, host: config.host, port: config.webPort, relayUrl, label: webLabel });
  process.env.DEMO_PORT = String(web.port);

  const url = (port: number) => displayUrl(config.host, port);
  const lan = config.host === '0.0.0.0' ? networkAddress() : undefined;
  const lines = [
    '',
    '  Streamstraight demo is running',
    '',
    `  Page          ${url(web.port)}   ← open this`,
    `  AI SDK page   ${url(web.port)}/ai   (useChat + StreamstraightChatTransport)`,
    ...(lan ? [`  On a phone    http://${lan}:${web.port}   (same network)`] : []),
    `  Next.js app   ${url(web.port)}/api/chat`,
    `  Hono app      ${url(honoPort)}/api/chat`,
    `  Express app   ${url(expressPort)}/api/chat`,
    `  Relay         ${url(relayPort)}   (memory store)`,
    `  API key       ${apiKey}   ${config.apiKey ? '(from SS_API_KEY / --api-key)' : '(generated for this run; set SS_API_KEY to choose one)'}`,
    `  Model         ${model.name}${process.env.OPENAI_API_KEY ? '' : '   (set OPENAI_API_KEY for a real model)'}`,
    '',
    '  Press Ctrl-C to stop.',
    '',
  ];
  console.log(lines.join('\n'));
}

async function stopAll(stops: Stop[]): Promise<void> {
  for (const stop of stops.reverse()) {
    await stop().catch((error: unknown) => console.error('[demo] while stopping:', error));
  }
}

async function main(): Promise<void> {
  let config: DemoConfig | 'help';
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`demo: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (config === 'help') {
    console.log(USAGE);
    return;
  }

  const stops: Stop[] = [];
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log('\n[demo] stopping now.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n[demo] ${signal}: stopping the servers… (again to force)`);
    const force = setTimeout(() => {
      console.error('[demo] still stopping after 5 s: exiting anyway.');
      process.exit(1);
    }, 5000);
    force.unref();
    void stopAll(stops).then(() => {
      console.log('[demo] stopped.');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('Ctrl-C'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    await start(config, stops);
  } catch (error) {
    await stopAll(stops);
    if (error instanceof PortInUseError) {
      console.error(`\ndemo: ${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof Error && /production build/i.test(error.message)) {
      console.error(`\ndemo: the Next.js app is not built. Run the demo with \`pnpm demo\` from the repository root (it builds first).\n`);
      process.exit(1);
    }
    throw error;
  }
}

await main();
