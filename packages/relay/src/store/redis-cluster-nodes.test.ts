import { StreamstraightError } from '@ss/core/protocol';
import { describe, expect, it } from 'vitest';
import { parseClusterNodes } from './redis-cluster-nodes.js';

const refusal = (entries: string[]) => {
  try {
    parseClusterNodes(entries);
  } catch (error) {
    expect(StreamstraightError.isInstance(error)).toBe(true);
    expect((error as StreamstraightError).code).toBe('BAD_REQUEST');
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(entries)} was accepted`);
};

describe('parseClusterNodes', () => {
  it('takes host:port seed nodes, IPv6 in brackets', () => {
    expect(parseClusterNodes(['127.0.0.1:7000', 'redis-2.internal:7001', '[::1]:7002'])).toEqual({
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      redisOptions: {},
      shown: '127.0.0.1:7000,redis-2.internal:7001,[::1]:7002',
    });
  });

  it('takes credentials and TLS from redis:// and rediss:// URLs, for every node, and never shows the password', () => {
    expect(parseClusterNodes(['redis://app:s%40cret@10.0.0.1:7000', '10.0.0.2:7000'])).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7000 },
      ],
      redisOptions: { username: 'app', password: 's@cret' },
      shown: '10.0.0.1:7000,10.0.0.2:7000',
    });
    expect(parseClusterNodes(['rediss://:pw@a:1', 'rediss://:pw@b:2']).redisOptions).toEqual({ password: 'pw', tls: {} });
  });

  it('refuses what is not a node, naming it without its password', () => {
    expect(refusal([])).toContain('at least one node');
    expect(refusal(['127.0.0.1'])).toContain('"127.0.0.1" is not host:port');
    expect(refusal(['127.0.0.1:0'])).toContain('is not host:port');
    expect(refusal(['127.0.0.1:99999'])).toContain('is not host:port');
    expect(refusal(['http://127.0.0.1:7000'])).toContain('is not host:port');
    expect(refusal(['redis://127.0.0.1:7000/2'])).toContain('is not host:port');
    const message = refusal(['redis://:hunter2@127.0.0.1']);
    expect(message).toContain('redis://:***@127.0.0.1');
    expect(message).not.toContain('hunter2');
  });

  it('refuses nodes that disagree on credentials or TLS', () => {
    expect(refusal(['redis://:a@h:1', 'redis://:b@h:2'])).toContain('different credentials');
    expect(refusal(['rediss://h:1', 'redis://h:2'])).toContain('mix redis:// and rediss://');
  });
});
