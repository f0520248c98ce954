/**
 * The demo app's "database": where each app keeps the answers its `onFinish` saved. A real app
 * writes to its own database here; the page lists these rows so anyone can see that a save ran
 * exactly once per generation, even when the tab that asked was closed.
 *
 * It deliberately does not deduplicate: a second save of the same stream would show up as a
 * second row, which is the bug the demo is there to rule out.
 */

/** How a generation ended, as saved. */
export type AnswerStatus = 'completed' | 'stopped' | 'failed';

/** One saved answer. */
export interface SavedAnswer {
  /** Row number, from 1, in save order. */
  id: number;
  /** The stream the answer was streamed on. */
  streamId: string;
  /** Which app saved it: `hono`, `express` or `next`. */
  backend: string;
  /** What was asked. */
  prompt: string;
  /** The answer's text, as far as it got. */
  text: string;
  /** Number of chunks streamed. */
  chunks: number;
  /** `completed`, `stopped` (a reader pressed Stop) or `failed`. */
  status: AnswerStatus;
  /** Why it failed, for `failed`. */
  error?: string;
  /** When it was saved (ISO 8601). */
  savedAt: string;
}

/** A new row: everything but the id and the time. */
export type NewAnswer = Omit<SavedAnswer, 'id' | 'savedAt'>;

/** An in-memory table of saved answers (newest first when listed). */
export class AnswerStore {
  readonly #rows: SavedAnswer[] = [];
  readonly #limit: number;

  /** @param limit - rows kept; the oldest go first. Default 200. */
  constructor(limit = 200) {
    this.#limit = limit;
  }

  /**
   * Saves an answer.
   * @param answer - the row to save.
   * @returns the saved row, with its id and time.
   */
  save(answer: NewAnswer): SavedAnswer {
    const row: SavedAnswer = { ...answer, id: (this.#rows.at(-1)?.id ?? 0) + 1, savedAt: new Date().toISOString() };
    this.#rows.push(row);
    if (this.#rows.length > this.#limit) this.#rows.shift();
    return row;
  }

  /** @returns every row, newest first. */
  list(): SavedAnswer[] {
    return [...this.#rows].reverse();
  }
}
