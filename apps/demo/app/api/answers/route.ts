// What the Next.js app's onFinish saved.
import { NextResponse } from 'next/server';
import { nextBackend } from '../../../src/apps/next-backend';

export const dynamic = 'force-dynamic';

export function GET(): NextResponse {
  return NextResponse.json({ answers: nextBackend().answers.list() });
}
