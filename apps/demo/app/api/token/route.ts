// The Next.js token route: a short-lived client token for one of this app's streams (that may also
// Stop it). A real app checks that the stream belongs to the signed-in user in `authorize`.
import { tokenHandler } from '@ss/nextjs';
import { nextBackend } from '../../../src/apps/next-backend';
import { isOwnStream } from '../../../src/chat/chat-turn';

let handler: ReturnType<typeof tokenHandler> | undefined;

export function POST(request: Request): Promise<Response> {
  // Made on first use: the API key is in the environment at run time, not when `next build` loads this module.
  handler ??= tokenHandler({ apiKey: nextBackend().apiKey, cancel: true, authorize: (_request, streamId) => isOwnStream('next', streamId) });
  return handler.POST(request);
}
