// Plain socket.io-client connections that speak the wire protocol by hand, as a third-party
// producer or reader would. Used to test the relay at the protocol level.
import { mintClientToken } from '@ss/core';
import { io, type Socket } from 'socket.io-client';

export interface ConnectOptions {
  auth: Record<string, unknown>;
  apiKey?: string;
  /** Attach listeners here for events the relay sends right after the handshake. */
  beforeConnect?: (socket: Socket) => void;
}

/** Connects and resolves once connected, or rejects with the `connect_error`. */
export async function connectRaw(url: string, { auth, apiKey, beforeConnect }: ConnectOptions): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth,
    extraHeaders: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    autoConnect: false,
  });
  beforeConnect?.(socket);
  socket.connect();
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
}

/** A multiplexing producer connection. */
export function connectMuxProducer(url: string, apiKey: string): Promise<Socket> {
  return connectRaw(url, { apiKey, auth: { role: 'producer', version: 'stream-v1', extensions: ['mux'], sdkVersion: 'raw-test' } });
}

/** A reader connection with a freshly minted token for `streamIds`. */
export async function connectReader(url: string, apiKey: string, streamIds: string[], cancel = false): Promise<Socket> {
  const token = await mintClientToken({ apiKey, streamIds, cancel });
  return connectRaw(url, { auth: { role: 'consumer', token } });
}

/** Everything a reader receives for one stream until `stream:end`. */
export interface ReadResult {
  data: string[];
  frames: Array<{ seq: number; count: number }>;
  end: { reason: string; lastSeq: number };
}

/** Subscribes `socket` to `streamId` from `fromSeq` and collects until the end. Fails on any out-of-order frame. */
export async function readToEnd(socket: Socket, streamId: string, fromSeq = 0, timeoutMs = 20_000): Promise<ReadResult> {
  const data: string[] = [];
  const frames: ReadResult['frames'] = [];
  const done = new Promise<ReadResult['end']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no stream:end for ${streamId} within ${timeoutMs} ms (got ${data.length} chunks)`)), timeoutMs);
    socket.on('stream:chunks', (frame: { streamId: string; seq: number; data: string[] }) => {
      if (frame.streamId !== streamId) return;
      if (frame.seq !== fromSeq + data.length) reject(new Error(`frame at seq ${frame.seq}, expected ${fromSeq + data.length}`));
      frames.push({ seq: frame.seq, count: frame.data.length });
      data.push(...frame.data);
    });
    socket.on('stream:end', (end: { streamId: string; reason: string; lastSeq: number }) => {
      if (end.streamId !== streamId) return;
      clearTimeout(timer);
      resolve({ reason: end.reason, lastSeq: end.lastSeq });
    });
  });
  const ack = await socket.timeout(5_000).emitWithAck('consumer:subscribe', { streamId, fromSeq });
  if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
  return { end: await done, data, frames };
}

/** Waits for the next `event` on `socket`. */
export function nextEvent<T = unknown>(socket: Socket, event: string, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}
