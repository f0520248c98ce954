// One case list (resumable-stream's documented behaviour), run case by case against the real
// `resumable-stream` 2.2.13 on a private redis-server and against `@ss/ai/server` on a real relay.
import { createRelay, type Relay } from '@ss/relay';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { redisServerMissing, startRedisServer, type RedisServer } from '../../relay/test/support/redis-server.js';
import { resumableStreamCases } from './support/resumable-stream-cases.js';
import { useSubject } from './support/subjects.js';

const API_KEY = 'test-key-ai-compat';

describe.skipIf(redisServerMissing)('resumable-stream 2.2.13 on Redis (the reference)', () => {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });
  const subject = useSubject('resumable-stream', () => ({ redisUrl: redis?.url }));
  for (const testCase of resumableStreamCases) it(testCase.name, () => testCase.run(subject()));
});

describe('@ss/ai/server createResumableStreamContext on the relay', () => {
  let relay: Relay | undefined;
  let url = '';
  beforeAll(async () => {
    relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
    ({ url } = await relay.listen(0));
  });
  afterAll(async () => {
    await relay?.close();
  });
  const subject = useSubject('@ss/ai', () => ({ relayUrl: url, apiKey: API_KEY }));
  for (const testCase of resumableStreamCases) it(testCase.name, () => testCase.run(subject()));
});
