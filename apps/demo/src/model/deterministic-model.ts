/**
 * The demo's offline model: the same prompt always gives the same answer, cut into tokens the size
 * an LLM's tokenizer makes (a word with its leading space, long words in two or three pieces,
 * punctuation and line breaks on their own), paced at a configurable number of tokens per second.
 */
import type { Model } from './model';

/** Default pace of the built-in model, in tokens per second (about what a hosted LLM streams). */
export const DEFAULT_TOKENS_PER_SECOND = 40;

/** Options of {@link deterministicModel}. */
export interface DeterministicModelOptions {
  /** Pace, in tokens per second. Default {@link DEFAULT_TOKENS_PER_SECOND}. */
  tokensPerSecond?: number;
}

const OPENINGS = [
  'Here is a short answer to “{topic}”.',
  'Good question — “{topic}” comes up a lot.',
  'Let me walk through “{topic}” step by step.',
  'On “{topic}”: short version first, then the details.',
];

const SENTENCES = [
  'The server keeps producing tokens even when the browser that asked goes away, so nothing is lost.',
  'Every chunk gets a sequence number, which is what lets a reader continue exactly where it stopped.',
  'A reload is just another reader: it asks the relay for the chunks after the last one it saw.',
  'Latency matters more than throughput here, because people read while the answer is being written.',
  'The relay stores each chunk before it acknowledges it, so an acknowledged chunk is never lost.',
  'When the connection drops, the client reconnects with backoff and resubscribes from the next sequence number.',
  'A second tab opened on the same link reads the same stream, live, without starting a second generation.',
  'Cancelling is a message to the producer, which stops reading from the model and ends the stream.',
  'Persisting the finished answer belongs on the server, where it runs exactly once, whoever is watching.',
  'Short-lived tokens scoped to one stream let the browser read it without ever seeing the API key.',
  'Most of the complexity hides in the edges: retries, duplicates, gaps, and work that outlives a request.',
  'In practice, a system like this is easier to reason about when every step is idempotent.',
  'The nice property of this design is that it degrades gracefully under a flaky network.',
  'Think of the stream as an append-only log that readers tail from any position they like.',
  'Batching small writes into one frame keeps the overhead low when a model streams quickly.',
  'A memory store is enough for one process; a shared store lets several relays serve the same streams.',
  'Measuring time to first token is usually more telling than measuring total generation time.',
  'Nothing here depends on the framework: the same route works with Hono, Express or Next.js.',
];

const BULLETS = [
  'resume from the last sequence number',
  'save the answer once, on the server',
  'scope tokens to a single stream',
  'stop the model when the reader cancels',
  'keep the HTTP response optional',
  'let any tab follow the same stream',
  'treat reconnects as the normal case',
  'acknowledge only what is stored',
];

const CLOSINGS = [
  'That is the gist of it; ask a follow-up if you want to go deeper.',
  'Hope this helps you get started.',
  'In short: make the stream durable, and the rest gets simpler.',
];

/** A 32-bit FNV-1a hash: the seed of an answer. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

/** mulberry32: a small, fast, seeded pseudo-random generator. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** The topic named in answers: the prompt, trimmed to a few words. */
function topicOf(prompt: string): string {
  const words = prompt
    .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return 'this';
  const topic = words.slice(0, 6).join(' ');
  return words.length > 6 ? `${topic}…` : topic;
}

/**
 * The full answer to a prompt, as text. Same prompt, same text.
 * @param prompt - what the user asked.
 * @returns three to four paragraphs and a short list.
 */
export function answerText(prompt: string): string {
  const random = seededRandom(hash(prompt.trim().toLowerCase()));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const topic = topicOf(prompt);
  const fill = (sentence: string) => sentence.replace('{topic}', topic);
  // A shuffled deck, dealt in order: no sentence appears twice in one answer.
  const deck = [...SENTENCES];
  for (let index = deck.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [deck[index], deck[other]] = [deck[other]!, deck[index]!];
  }
  const paragraph = (count: number) => deck.splice(0, count).join(' ');
  const bullets = new Set<string>();
  const bulletCount = 3 + Math.floor(random() * 2);
  while (bullets.size < bulletCount) bullets.add(pick(BULLETS));
  const parts = [
    `${fill(pick(OPENINGS))} ${paragraph(2 + Math.floor(random() * 2))}`,
    paragraph(3 + Math.floor(random() * 2)),
    `A few rules of thumb:\n${[...bullets].map((bullet) => `- ${bullet[0]!.toUpperCase()}${bullet.slice(1)}`).join('\n')}`,
    `${paragraph(2 + Math.floor(random() * 2))} ${pick(CLOSINGS)}`,
  ];
  return parts.join('\n\n');
}

/**
 * Cuts text into LLM-like tokens: a word carries its leading space, words longer than seven
 * letters are split into pieces of three to six, punctuation and line breaks stand alone.
 * Joining the tokens gives the text back exactly.
 * @param text - the text.
 * @returns the tokens, in order.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.matchAll(/\n+|[ ]?[\p{L}\p{N}'’-]+|[ ]?[^\s\p{L}\p{N}]|[ ]+/gu)) {
    const token = match[0];
    const core = token.trimStart();
    if (core.length <= 7 || !/^[\p{L}\p{N}'’-]+$/u.test(core)) {
      tokens.push(token);
      continue;
    }
    const lead = token.slice(0, token.length - core.length);
    let rest = core;
    let first = true;
    while (rest.length > 6) {
      const size = rest.length <= 9 ? Math.ceil(rest.length / 2) : 3 + (rest.length % 4);
      tokens.push(`${first ? lead : ''}${rest.slice(0, size)}`);
      rest = rest.slice(size);
      first = false;
    }
    tokens.push(`${first ? lead : ''}${rest}`);
  }
  return tokens;
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The built-in model: deterministic, offline, paced.
 * @param options - `tokensPerSecond` (default 40).
 * @returns a {@link Model}.
 * @example
 * ```ts
 * const model = deterministicModel({ tokensPerSecond: 200 })
 * for await (const token of model.stream('Why resumable streams?')) process.stdout.write(token)
 * ```
 */
export function deterministicModel(options: DeterministicModelOptions = {}): Model {
  const tokensPerSecond = options.tokensPerSecond ?? DEFAULT_TOKENS_PER_SECOND;
  if (!(Number.isFinite(tokensPerSecond) && tokensPerSecond > 0)) {
    throw new RangeError(`tokensPerSecond must be a number above 0, got ${String(tokensPerSecond)}.`);
  }
  const interval = 1000 / tokensPerSecond;
  return {
    name: `built-in (deterministic, ${tokensPerSecond} tokens/s)`,
    async *stream(prompt, signal) {
      const tokens = tokenize(answerText(prompt));
      const start = performance.now();
      for (let index = 0; index < tokens.length; index++) {
        // Keep to the schedule (start + index × interval) so timer slack does not add up.
        await sleep(start + index * interval - performance.now(), signal);
        if (signal?.aborted) return;
        yield tokens[index]!;
      }
    },
  };
}
