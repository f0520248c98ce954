/**
 * The demo's settings, from command-line flags and environment variables (flags win).
 */
import { parseArgs } from 'node:util';

/** Everything the demo needs to start. */
export interface DemoConfig {
  /** Interface every server binds. Default `127.0.0.1`; `0.0.0.0` to open the page from a phone. */
  host: string;
  /** The web page (the Next.js app). Default 3000. */
  webPort: number;
  /** The Hono app. Default 3001. */
  honoPort: number;
  /** The Express app. Default 3002. */
  expressPort: number;
  /** The relay. Default 8787. */
  relayPort: number;
  /** The API key the apps and the relay share; generated when not given. */
  apiKey: string | undefined;
  /** Pace of the built-in model. Default 40. */
  tokensPerSecond: number;
}

/** The usage text of `node dist/main.js --help`. */
export const USAGE = `Usage: pnpm demo [-- options]      (or: node apps/demo/dist/main.js [options])

Starts a relay and three app servers (Next.js, Hono, Express), and serves the page on the first.

Options (flag / environment variable, default):
  --port <n>               the web page, Next.js app   DEMO_PORT          3000
  --hono-port <n>          the Hono app                DEMO_HONO_PORT     3001
  --express-port <n>       the Express app             DEMO_EXPRESS_PORT  3002
  --relay-port <n>         the relay                   DEMO_RELAY_PORT    8787
  --host <addr>            interface to bind           DEMO_HOST          127.0.0.1 (0.0.0.0: reachable from your phone)
  --tokens-per-second <n>  pace of the built-in model  DEMO_TOKENS_PER_SECOND  40
  --api-key <key>          shared by apps and relay    SS_API_KEY         generated at each start
  -h, --help               show this help

A real model instead of the built-in one: OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL).`;

/** A setting that cannot be used; the message says which and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function port(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new ConfigError(`${name} must be a port number from 0 to 65535, got "${raw}".`);
  return value;
}

/**
 * Reads the settings.
 * @param argv - the command-line arguments after the script (`process.argv.slice(2)`).
 * @param environment - usually `process.env`.
 * @returns the settings, or `'help'` when `--help` was asked for.
 * @throws ConfigError for an unknown flag or a bad value.
 * @example
 * ```ts
 * const config = readConfig(process.argv.slice(2), process.env)
 * ```
 */
export function readConfig(argv: string[], environment: NodeJS.ProcessEnv): DemoConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv.filter((argument) => argument !== '--'),
      strict: true,
      options: {
        port: { type: 'string' },
        'hono-port': { type: 'string' },
        'express-port': { type: 'string' },
        'relay-port': { type: 'string' },
        host: { type: 'string' },
        'tokens-per-second': { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return 'help';
  const flag = (name: string) => values[name] as string | undefined;
  const paceRaw = flag('tokens-per-second') ?? environment.DEMO_TOKENS_PER_SECOND;
  const tokensPerSecond = paceRaw === undefined || paceRaw === '' ? 40 : Number(paceRaw);
  if (!(Number.isFinite(tokensPerSecond) && tokensPerSecond > 0)) {
    throw new ConfigError(`--tokens-per-second must be a number above 0, got "${paceRaw}".`);
  }
  const config: DemoConfig = {
    host: flag('host') ?? environment.DEMO_HOST ?? '127.0.0.1',
    webPort: port(flag('port') ?? environment.DEMO_PORT, 3000, '--port (DEMO_PORT)'),
    honoPort: port(flag('hono-port') ?? environment.DEMO_HONO_PORT, 3001, '--hono-port (DEMO_HONO_PORT)'),
    expressPort: port(flag('express-port') ?? environment.DEMO_EXPRESS_PORT, 3002, '--express-port (DEMO_EXPRESS_PORT)'),
    relayPort: port(flag('relay-port') ?? environment.DEMO_RELAY_PORT, 8787, '--relay-port (DEMO_RELAY_PORT)'),
    apiKey: flag('api-key') ?? (environment.SS_API_KEY || undefined),
    tokensPerSecond,
  };
  const ports = [config.webPort, config.honoPort, config.expressPort, config.relayPort].filter((value) => value !== 0);
  if (new Set(ports).size !== ports.length) throw new ConfigError(`Two servers cannot share a port: ${ports.join(', ')}.`);
  return config;
}
