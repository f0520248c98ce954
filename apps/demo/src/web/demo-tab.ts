/**
 * Demo only, shared by the AI SDK page and the web server: how a tab names itself, so that its
 * **Cut the response** button cuts this tab's chat responses and no other tab's.
 */

/** The request header the AI SDK page's transport sends with each request: the tab's id. */
export const DEMO_TAB_HEADER = 'x-demo-tab';

/** The path that cuts a tab's chat responses in flight: `POST /demo/ai-responses/<tabId>/cut`. */
export const AI_RESPONSES_PREFIX = '/demo/ai-responses/';

/** A tab id: what {@link newTabId} makes. */
export const TAB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** @returns a new random tab id. */
export function newTabId(): string {
  return Math.random().toString(36).slice(2, 12);
}
