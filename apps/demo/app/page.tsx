import { connection } from 'next/server';
import { type Backend, isBackend, pageConfigFromEnvironment } from '../src/page-config';
import { ChatApp } from './chat-app';

/** The demo page: rendered per request, so it always names the ports this run listens on. */
export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await connection();
  const params = await searchParams;
  const backend: Backend = isBackend(params.backend) ? params.backend : 'next';
  const streamId = typeof params.stream === 'string' ? params.stream : undefined;
  return <ChatApp config={pageConfigFromEnvironment(process.env)} initialBackend={backend} initialStreamId={streamId} />;
}
