/**
 * What each demo app is built from.
 */
import type { AnswerStore } from '../answers/answer-store';
import type { Model } from '../model/model';

/** Options of `createHonoApp` and `createExpressApp`. */
export interface AppOptions {
  /** The API key the relay is configured with: the producer uses it, and client tokens are signed with it. */
  apiKey: string;
  /** The relay, as this server reaches it. */
  relayUrl: string;
  /** What answers. */
  model: Model;
  /** The app's "database". Default: a new, empty one. */
  answers?: AnswerStore;
}
