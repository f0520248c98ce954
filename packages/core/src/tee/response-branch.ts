/**
 * The HTTP branch of the tee: a pull-based `ReadableStream<Uint8Array>` fed by the pump, with its
 * own bounded queue so a slow (or vanished) HTTP client never slows the pump.
 *
 * - The pump writes without waiting. While the client reads, bytes go straight to it; while it
 *   does not, they queue (up to `maxBytes`; a read takes everything queued, in one piece of at most
 *   {@link MAX_READ_BYTES}).
 * - Past `maxBytes` queued the branch is detached (`overflowed`): the body errors, so the client
 *   sees a cut response (never a silently shortened one) and can resume from the relay after the
 *   last SSE `id:` it got.
 * - Cancelling the body (the client went away) detaches it (`disconnected`); nothing else stops.
 * - A source error errors the body, after the client has read what was queued before it (and one
 *   macrotask later, so the server has flushed it).
 */
import { StreamstraightError } from '../errors.js';

/** How the HTTP branch ended, as reported in `TeeResult.response`. */
export type ResponseOutcome =
  /** Every chunk (and the end) was handed to the body; a slow client may still be reading it. */
  | 'completed'
  /** The body was cancelled: the client went away (or the framework dropped the response). */
  | 'disconnected'
  /** The client read too slowly: more than the buffer limit waited, and the body was errored. */
  | 'overflowed'
  /** The source failed and the body was errored. */
  | 'errored';

/** Largest piece handed to the reader at once. */
export const MAX_READ_BYTES = 256 * 1024;

type State = 'open' | 'closing' | 'erroring' | ResponseOutcome;

const encoder = new TextEncoder();

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/** The HTTP branch: see the module comment. Internal to the tee. */
export class ResponseBranch {
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #maxBytes: number;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #readPending = false;
  #state: State = 'open';
  #error: unknown;

  /**
   * @param maxBytes - the most bytes that may wait for a slow client before the branch is detached.
   */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#pull(),
        cancel: () => this.#detach('disconnected'),
      },
      { highWaterMark: 0 },
    );
  }

  /** Whether a client is still attached (the body was neither cancelled, cut nor ended). */
  get attached(): boolean {
    return this.#state === 'open';
  }

  /** How the branch ended; `completed` while the end is still being read. */
  get outcome(): ResponseOutcome {
    if (this.#state === 'open' || this.#state === 'closing') return 'completed';
    if (this.#state === 'erroring') return 'errored';
    return this.#state;
  }

  /**
   * Queues serialized bytes for the client (nothing once detached).
   * @param part - what the body format produced; empty writes nothing.
   */
  write(part: string | Uint8Array | undefined): void {
    if (this.#state !== 'open' || part === undefined) return;
    const bytes = typeof part === 'string' ? encoder.encode(part) : part;
    if (bytes.byteLength === 0) return;
    if (this.#readPending) {
      this.#readPending = false;
      this.#controller.enqueue(bytes);
      return;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    if (this.#queuedBytes > this.#maxBytes) {
      this.#detach('overflowed');
      this.#controller.error(
        new StreamstraightError(
          'CLOSED',
          `The HTTP client read too slowly: more than ${this.#maxBytes} bytes were waiting, so the response was cut. Resume from the relay.`,
        ),
      );
    }
  }

  /**
   * Ends the body once the client has read everything queued.
   * @param final - a last piece (the format's end marker).
   */
  close(final?: string | Uint8Array): void {
    this.write(final);
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    if (this.#queue.length === 0) this.#finish();
  }

  /**
   * Errors the body once the client has read everything queued before the error.
   * @param error - why.
   */
  error(error: unknown): void {
    if (this.#state !== 'open') return;
    this.#state = 'erroring';
    this.#error = error;
    if (this.#queue.length === 0 && this.#readPending) this.#finish();
  }

  #pull(): void {
    if (this.#queue.length === 0) {
      if (this.#state === 'erroring') this.#finish();
      else this.#readPending = true;
      return;
    }
    let count = 0;
    let bytes = 0;
    while (count < this.#queue.length && (count === 0 || bytes + (this.#queue[count] as Uint8Array).byteLength <= MAX_READ_BYTES)) {
      bytes += (this.#queue[count] as Uint8Array).byteLength;
      count++;
    }
    const parts = this.#queue.splice(0, count);
    this.#queuedBytes -= bytes;
    this.#controller.enqueue(count === 1 ? (parts[0] as Uint8Array) : concat(parts, bytes));
    if (this.#queue.length === 0 && this.#state === 'closing') this.#finish();
  }

  #finish(): void {
    if (this.#state === 'closing') {
      this.#state = 'completed';
      this.#controller.close();
    } else if (this.#state === 'erroring') {
      this.#state = 'errored';
      // One macrotask later: a Node server flushes the writes it just made (corked until the next
      // tick) before it tears the connection down on the error.
      setTimeout(() => this.#controller.error(this.#error), 0);
    }
  }

  #detach(outcome: 'disconnected' | 'overflowed'): void {
    if (this.#state === 'completed' || this.#state === 'errored' || this.#state === 'disconnected' || this.#state === 'overflowed') return;
    this.#state = outcome;
    this.#queue = [];
    this.#queuedBytes = 0;
  }
}
