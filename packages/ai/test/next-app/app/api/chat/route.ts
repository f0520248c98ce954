import { answer } from '../../../lib/chats';

export const dynamic = 'force-dynamic';

export function POST(request: Request): Promise<Response> {
  return answer(request);
}
