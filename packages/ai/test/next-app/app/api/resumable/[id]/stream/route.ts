// The README's app/api/chat/[id]/stream/route.ts: resume (204 when there is nothing to resume) and cancel.
import { UI_MESSAGE_STREAM_HEADERS } from 'ai';
import { resumableChat, streamContext } from '../../../../../lib/resumable-chats';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ id: string }> };

export async function GET(_request: Request, { params }: Context): Promise<Response> {
  const streamId = resumableChat((await params).id).activeStreamId;
  if (streamId === undefined) return new Response(null, { status: 204 });
  const stream = await streamContext.resumeExistingStream(streamId); // null once the answer is done
  if (!stream) return new Response(null, { status: 204 });
  return new Response(stream.pipeThrough(new TextEncoderStream()), { headers: UI_MESSAGE_STREAM_HEADERS });
}

export async function DELETE(_request: Request, { params }: Context): Promise<Response> {
  const streamId = resumableChat((await params).id).activeStreamId;
  if (streamId !== undefined) await streamContext.cancelStream(streamId, 'stopped by the user');
  return new Response(null, { status: 204 });
}
