/**
 * The AI SDK page's "database": each chat's messages (what the page loads on open), the stream id
 * of its latest answer (what the resume route reads), and what happened to each answer on the
 * server (the model calls and how the tee ended), which the page and the tests show.
 */
import type { UIMessage } from 'ai';
import type { LanguageModelCallReport } from '../model/language-model';

/** Default most chats kept; the least recently updated go first. */
export const DEFAULT_MAX_CHATS = 200;

/** What the server knows of one answer. */
export interface AiAnswer {
  /** The relay stream it was written to: `${chatId}:${uuid}`. */
  streamId: string;
  /** What was asked (the last user message's text). */
  prompt: string;
  /** When the request came (ISO 8601). */
  startedAt: string;
  /** One report per model call, in order (a weather answer makes two: the tool call, then the text). */
  modelCalls: LanguageModelCallReport[];
  /** How the tee ended (the adapter's `onFinish`), once it did. */
  finish?: {
    /** A reader cancelled the stream through the relay (Stop with `cancelOnStop`). */
    cancelled: boolean;
    /** `ok` when the relay holds every chunk and the end, else the error code. */
    relay: string;
    /** Chunks written. */
    chunks: number;
  };
}

/** One chat. */
export interface AiChat {
  id: string;
  /** The chat's messages as last saved: the user's on each request, everything at each answer's end. */
  messages: UIMessage[];
  /** The latest answer's stream (kept after it ended, until the next message replaces it). */
  activeStreamId: string | undefined;
  /** Every answer of this chat, oldest first. */
  answers: AiAnswer[];
  updatedAt: number;
}

/** In-memory chats, bounded. */
export class AiChatStore {
  readonly #chats = new Map<string, AiChat>();
  readonly #answers = new Map<string, AiAnswer>();
  readonly #limit: number;

  /** @param limit - chats kept. Default {@link DEFAULT_MAX_CHATS}. */
  constructor(limit = DEFAULT_MAX_CHATS) {
    this.#limit = limit;
  }

  /**
   * @param chatId - a chat id.
   * @returns the chat, or undefined when it has no message yet.
   */
  get(chatId: string): AiChat | undefined {
    return this.#chats.get(chatId);
  }

  /**
   * A new answer starts: saves the chat's messages as the request sent them (so a reload shows
   * the question at once) and makes `streamId` the chat's active stream.
   * @returns the answer's record.
   */
  startAnswer(chatId: string, messages: UIMessage[], streamId: string, prompt: string): AiAnswer {
    const chat = this.#touch(chatId);
    chat.messages = messages;
    chat.activeStreamId = streamId;
    const answer: AiAnswer = { streamId, prompt, startedAt: new Date().toISOString(), modelCalls: [] };
    chat.answers.push(answer);
    this.#answers.set(streamId, answer);
    return answer;
  }

  /**
   * Saves the messages an answer ended with (`toUIMessageStream`'s `onEnd`), unless a newer answer
   * of the chat started meanwhile (its request carries the newer history).
   * @returns whether they were saved.
   */
  saveMessages(chatId: string, streamId: string, messages: UIMessage[]): boolean {
    const chat = this.#chats.get(chatId);
    if (chat === undefined || chat.activeStreamId !== streamId) return false;
    chat.messages = messages;
    chat.updatedAt = Date.now();
    return true;
  }

  /** Records how the tee of an answer ended. */
  finishAnswer(streamId: string, finish: NonNullable<AiAnswer['finish']>): void {
    const answer = this.#answers.get(streamId);
    if (answer !== undefined) answer.finish = finish;
  }

  #touch(chatId: string): AiChat {
    let chat = this.#chats.get(chatId);
    if (chat === undefined) {
      chat = { id: chatId, messages: [], activeStreamId: undefined, answers: [], updatedAt: Date.now() };
      this.#chats.set(chatId, chat);
      if (this.#chats.size > this.#limit) {
        const oldest = [...this.#chats.values()].reduce((least, candidate) => (candidate.updatedAt < least.updatedAt ? candidate : least));
        this.#chats.delete(oldest.id);
        for (const answer of oldest.answers) this.#answers.delete(answer.streamId);
      }
    }
    chat.updatedAt = Date.now();
    return chat;
  }
}
