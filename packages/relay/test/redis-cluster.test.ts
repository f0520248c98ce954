// Relays on a real three-master Redis Cluster the test starts (never the system Redis): two relays
// in this process (producer on A, reader on B, streams on every node), then two `ss-relay
// --redis-cluster` processes behind a load balancer, as the README runs them.
import { streamstraightServer } from '@ss/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';
import { close, useCleanups, useForBlock } from './support/cleanups.js';
import { connectReader, readToEnd } from './support/raw-clients.js';
import { redisClusterMissing, startRedisCluster } from './support/redis-cluster.js';
import { ensureBuiltCli, startRelayProcess } from './support/relay-process.js';
import { startTcpBalancer } from './support/tcp-balancer.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, token } from './support/tokens.js';
import { until } from './support/until.js';

const API_KEY = 'cluster-key';
const later = useCleanups();

/** A gate the producers stop at halfway, so readers subscribe to live streams. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * One producer handle per stream, all through `baseUrl` (one pooled connection): `count` tokens
 * each, the second half once `halfway` resolves.
 */
async function produceAll(baseUrl: string, ids: readonly string[], count: number, halfway: Promise<void>): Promise<Array<Promise<unknown>>> {
  const handles = await Promise.all(
    ids.map(async (streamId) => later(await streamstraightServer({ apiKey: API_KEY, baseUrl }, { streamId }), (handle) => handle.disconnect())),
  );
  return handles.map((handle) =>
    handle.stream(
      (async function* () {
        for (let index = 0; index < count; index++) {
          if (index === count / 2) await halfway;
          yield token(index);
        }
      })(),
    ),
  );
}

/** Resolves once the relay whose health is `health` follows `count` streams (its readers are subscribed). */
function following(health: () => Promise<{ detail?: string }>, count: number): Promise<void> {
  return until(async () => /\b(\d+) streams followed/.exec((await health()).detail ?? '')?.[1] === String(count), `the reader's relay to follow ${count} streams`);
}

describe.skipIf(redisClusterMissing)('relays on a Redis Cluster', () => {
  const cluster = useForBlock(startRedisCluster);
  beforeAll(ensureBuiltCli, 120_000);

  const startRelay = () => startTestRelay(later, { apiKeys: [API_KEY], store: redisStore({ clusterNodes: cluster().nodeList.split(',') }) });

  it('the producer writes through relay A; a reader on relay B gets every chunk of every stream in order, and the end — streams on every node', async () => {
    const a = await startRelay();
    const b = await startRelay();
    const streams = await cluster().idsOnEveryNode('two-relays', 2);
    expect(new Set(streams.map(({ port }) => port)).size).toBe(3);
    const ids = streams.map(({ id }) => id);

    const halfway = gate();
    const producing = await produceAll(a.url, ids, 1_000, halfway.opened);
    await until(async () => (await Promise.all(ids.map((id) => a.relay.store.info(id)))).every((info) => info?.lastSeq === 499), 'the first halves', 15_000);
    // Subscribed mid-stream: B catches up from the cluster, then follows A's writes over Pub/Sub.
    const reader = later(await connectReader(b.url, API_KEY, ids), close);
    const reading = ids.map((id) => readToEnd(reader, id, 0, 30_000));
    await following(() => b.relay.store.health(), ids.length);
    halfway.open();

    await Promise.all(producing);
    const all = encoded(1_000);
    for (const result of await Promise.all(reading)) {
      expect(result.data).toEqual(all);
      expect(result.end).toEqual({ reason: 'completed', lastSeq: 999 });
    }
    const health = await fetch(`${b.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'redis' });
  });

  it('two `ss-relay --redis-cluster` processes behind a balancer (nodes from the flag and from SS_REDIS_CLUSTER_NODES): producer on one, reader on the other', async () => {
    const relayA = later(await startRelayProcess(['--api-key', API_KEY, '--redis-cluster', cluster().nodeList]), (relay) => relay.kill('SIGKILL'));
    const relayB = later(await startRelayProcess(['--api-key', API_KEY], { SS_REDIS_CLUSTER_NODES: cluster().nodeList }), (relay) => relay.kill('SIGKILL'));
    for (const relay of [relayA, relayB]) {
      expect(relay.output()).toContain(`Redis Cluster store at ${cluster().nodeList}`);
      const health = await fetch(`${relay.url}/healthz`);
      expect(await health.json()).toMatchObject({ status: 'ok', store: 'redis', detail: expect.stringContaining('CLUSTER INFO ok') });
    }
    const balancer = later(await startTcpBalancer([relayA.port, relayB.port]), close);

    const ids = (await cluster().idsOnEveryNode('balanced')).map(({ id }) => id);
    // Round robin: the producers' pooled connection goes to A, the reader's to B.
    const halfway = gate();
    const producing = await produceAll(balancer.url, ids, 500, halfway.opened);
    const reader = later(await connectReader(balancer.url, API_KEY, ids), close);
    expect(balancer.connectionsByTarget.get(relayA.port)).toBe(1);
    expect(balancer.connectionsByTarget.get(relayB.port)).toBe(1);
    const lastSeq = async (id: string) => {
      const response = await fetch(`${relayB.url}/v1/streams/${id}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
      return response.ok ? ((await response.json()) as { lastSeq: number }).lastSeq : undefined;
    };
    await until(async () => (await Promise.all(ids.map(lastSeq))).every((seq) => seq === 249), 'the first halves', 15_000);
    const reading = ids.map((id) => readToEnd(reader, id, 0, 30_000));
    await following(async () => (await fetch(`${relayB.url}/healthz`)).json(), ids.length);
    halfway.open();

    await Promise.all(producing);
    for (const result of await Promise.all(reading)) {
      expect(result.data).toEqual(encoded(500));
      expect(result.end).toEqual({ reason: 'completed', lastSeq: 499 });
    }
  });
});
