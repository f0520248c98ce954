/**
 * What the web page needs to know about the demo's servers, passed from the launcher to the
 * Next.js app through environment variables (so `next start` alone works the same way).
 */

/** The three app servers, one per adapter. */
export const BACKENDS = ['next', 'hono', 'express'] as const;

/** One of {@link BACKENDS}. */
export type Backend = (typeof BACKENDS)[number];

/** Display names. */
export const BACKEND_LABELS: Record<Backend, string> = { next: 'Next.js', hono: 'Hono', express: 'Express' };

/** The response header that carries the stream id (the adapters' default). */
export const STREAM_ID_HEADER = 'x-stream-id';

/** Given to the page by its server component. */
export interface PageConfig {
  /** Port of each app; the page reaches them on its own host name (`next` is the page's own origin). */
  ports: Record<Backend, number>;
  /** The model's display name. */
  model: string;
}

/**
 * @param value - anything.
 * @returns whether it names a backend.
 */
export function isBackend(value: unknown): value is Backend {
  return typeof value === 'string' && (BACKENDS as readonly string[]).includes(value);
}

/**
 * Reads the page's settings from the environment the launcher set.
 * @param environment - usually `process.env`.
 * @returns the page config.
 */
export function pageConfigFromEnvironment(environment: NodeJS.ProcessEnv): PageConfig {
  return {
    ports: {
      next: Number(environment.DEMO_PORT ?? 3000),
      hono: Number(environment.DEMO_HONO_PORT ?? 3001),
      express: Number(environment.DEMO_EXPRESS_PORT ?? 3002),
    },
    model: environment.DEMO_MODEL_NAME ?? 'built-in',
  };
}
