import { StreamstraightError } from '@ss/core/protocol';

/** The seed nodes of a Redis Cluster and what every node connection needs, from {@link parseClusterNodes}. */
export interface ClusterNodes {
  /** Where the cluster client starts; it discovers the other nodes itself. */
  nodes: Array<{ host: string; port: number }>;
  /** Credentials, and `tls` when the nodes were given as `rediss://`: for every node connection. */
  redisOptions: { username?: string; password?: string; tls?: Record<string, never> };
  /** `host:port,host:port` — safe to print (no credentials). */
  shown: string;
}

const refuse = (message: string): never => {
  throw new StreamstraightError('BAD_REQUEST', message);
};

/**
 * Parses the seed nodes of a Redis Cluster: each entry is `host:port` (IPv6 as `[::1]:7000`) or a
 * URL `redis://[user:password@]host:port` (`rediss://` for TLS). A cluster has one password and
 * one transport, so the entries that carry credentials must agree, and all or none are `rediss://`.
 *
 * @param entries - one entry per seed node (at least one).
 * @returns the nodes, and the credentials and TLS setting for every node of the cluster.
 * @example
 * ```ts
 * parseClusterNodes(['10.0.0.1:7000', '10.0.0.2:7000']).nodes // [{ host: '10.0.0.1', port: 7000 }, …]
 * ```
 */
export function parseClusterNodes(entries: readonly string[]): ClusterNodes {
  if (entries.length === 0) refuse('a Redis Cluster needs at least one node, as host:port (for example 127.0.0.1:7000).');
  const nodes: ClusterNodes['nodes'] = [];
  const credentials = new Set<string>();
  const schemes = new Set<string>();
  let username: string | undefined;
  let password: string | undefined;
  for (const entry of entries) {
    const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
    let url: URL | undefined;
    try {
      url = new URL(hasScheme ? entry : `redis://${entry}`);
    } catch {
      url = undefined;
    }
    const port = url?.port ? Number(url.port) : Number.NaN;
    if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname || !(port >= 1 && port <= 65_535) || (url.pathname !== '' && url.pathname !== '/')) {
      return refuse(`Redis Cluster node "${hidePassword(entry)}" is not host:port or redis://[user:password@]host:port (for example 127.0.0.1:7000).`);
    }
    if (!hasScheme && (url.username || url.password)) {
      return refuse(`Redis Cluster node "${hidePassword(entry)}": give credentials as redis://user:password@host:port.`);
    }
    schemes.add(url.protocol);
    if (url.username || url.password) {
      username = url.username ? decodeURIComponent(url.username) : undefined;
      password = url.password ? decodeURIComponent(url.password) : undefined;
      credentials.add(`${url.username}:${url.password}`);
    }
    nodes.push({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port });
  }
  if (credentials.size > 1) refuse('the Redis Cluster nodes carry different credentials; a cluster has one user and password for every node.');
  if (schemes.size > 1) refuse('the Redis Cluster nodes mix redis:// and rediss://; use rediss:// for every node (TLS) or for none.');
  return {
    nodes,
    redisOptions: {
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(schemes.has('rediss:') ? { tls: {} } : {}),
    },
    shown: nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(','),
  };
}

/** `entry` with its password replaced by `***`, for error messages. */
function hidePassword(entry: string): string {
  return entry.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
