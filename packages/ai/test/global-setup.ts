// A relay, and the Next.js test app (test/next-app) built with a real `next build` and served with
// `next start` against it, for the transport tests that run on Next.js.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRelay } from '@ss/relay';
import type { TestProject } from 'vitest/node';
import { startNextFixture } from '../../nextjs/test/support/next-fixture.js';
import { API_KEY } from './support/chat-apps.js';

declare module 'vitest' {
  export interface ProvidedContext {
    nextAppUrl: string;
    nextRelayUrl: string;
  }
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
  const { url: relayUrl } = await relay.listen(0);
  const fixture = await startNextFixture({
    fixtureDir: join(packageDir, 'test/next-app'),
    nextPackageDir: packageDir,
    packageDirs: ['core', 'client', 'nextjs'].map((name) => join(packageDir, '..', name)).concat(packageDir),
    extraInputs: [join(packageDir, 'test/support')],
    env: { STREAMSTRAIGHT_API_BASE_URL: relayUrl },
  });
  project.provide('nextAppUrl', fixture.url);
  project.provide('nextRelayUrl', relayUrl);
  return async () => {
    await fixture.stop();
    await relay.close();
  };
}
