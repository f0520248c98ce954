// The tests' look into the app: GET a chat's state, PUT its active stream id.
import { chatRecord } from '../../../../lib/chats';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ id: string }> };

export async function GET(_request: Request, context: Context): Promise<Response> {
  const { modelSignals, ...state } = chatRecord((await context.params).id);
  return Response.json({ ...state, modelAborted: modelSignals.some((signal) => signal.aborted) });
}

export async function PUT(request: Request, context: Context): Promise<Response> {
  chatRecord((await context.params).id).activeStream = ((await request.json()) as { activeStream: string }).activeStream;
  return new Response(null, { status: 204 });
}
