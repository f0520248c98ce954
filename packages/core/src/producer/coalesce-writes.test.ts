import { createServer } from 'node:http';
import type { AddressInfo, Socket as TcpSocket } from 'node:net';
import { Server } from 'socket.io';
import { type Socket, io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Socket.IO server that records the order of `m` events and acknowledges each. */
async function startServer(): Promise<{ url: string; received: number[] }> {
  const httpServer = createServer();
  const server = new Server(httpServer);
  const received: number[] = [];
  server.on('connection', (socket) => socket.on('m', (value: number, ack: (value: number) => void) => {
    received.push(value);
    ack(value);
  }));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, received };
}

async function connect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  cleanups.push(() => void socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Counts the writes made on the client's TCP socket. */
function countWrites(socket: Socket): () => number {
  const tcp = (socket.io as unknown as { engine: { transport: { ws: { _socket: TcpSocket } } } }).engine.transport.ws._socket;
  const internals = tcp as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = internals[name];
    internals[name] = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
  }
  return () => writes;
}

async function burst(socket: Socket, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => socket.emitWithAck('m', index) as Promise<number>));
}

describe('coalesceWrites', () => {
  it('sends a burst of emits in a few writes, in order', async () => {
    const { url, received } = await startServer();
    const socket = await connect(url);
    coalesceWrites(socket);
    const writes = countWrites(socket);

    const acks = await burst(socket, 200);

    expect(acks).toEqual(Array.from({ length: 200 }, (_, index) => index));
    expect(received).toEqual(acks);
    // The first emit is written at once; the other 199 wait for it and go out together.
    expect(writes()).toBeLessThanOrEqual(3);
  });

  it('leaves a connection without it writing once per emit (the cost it removes)', async () => {
    const { url } = await startServer();
    const socket = await connect(url);
    const writes = countWrites(socket);
    await burst(socket, 200);
    expect(writes()).toBeGreaterThan(100);
  });

  it('patches a transport once, however often it is called', async () => {
    const { url, received } = await startServer();
    const socket = await connect(url);
    coalesceWrites(socket);
    coalesceWrites(socket);
    await burst(socket, 10);
    expect(received).toHaveLength(10);
  });
});
