// The tests' look into the app: a resumable chat's active stream id, and whether its model call was aborted.
import { resumableChat } from '../../../../lib/resumable-chats';

export const dynamic = 'force-dynamic';

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { activeStreamId, modelSignals } = resumableChat((await params).id);
  return Response.json({ activeStreamId: activeStreamId ?? null, modelAborted: modelSignals.some((signal) => signal.aborted) });
}
