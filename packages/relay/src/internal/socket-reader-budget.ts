import type { Socket as TcpSocket } from 'node:net';
import type { ErrorPayload } from '@ss/core/protocol';
import type { ReaderBudget, ReaderBudgets, SlowReaderReason } from './reader-budget.js';
import type { RelaySocket } from './relay-socket.js';

/** How long a dropped reader's TCP connection may still flush what it holds (and the `SLOW_READER` notice) before it is destroyed. */
export const SLOW_READER_CLOSE_GRACE_MS = 5_000;

/** Packets below this size are checked against the budget in groups (see `onPacket`). */
const SMALL_PACKET_BYTES = 4096;
/** How many small packets may be queued between two checks (≤ 16 × 4 KiB past the budget). */
const CHECK_EVERY_PACKETS = 16;

interface EnginePacket {
  data?: unknown;
}

interface EngineTransport {
  name?: string;
  /** The `ws` WebSocket of the websocket transport. */
  socket?: { bufferedAmount?: number; send?: (data: string) => void; _socket?: TcpSocket };
}

function packetBytes(packet: EnginePacket): number {
  const data = packet.data;
  if (typeof data === 'string') return data.length;
  if (data && typeof (data as ArrayBufferView).byteLength === 'number') return (data as ArrayBufferView).byteLength;
  return 0;
}

/**
 * Watches what a Socket.IO reader connection has queued — the engine.io write buffer (packets not
 * yet handed to the transport; string lengths, which are bytes for ASCII) plus the WebSocket's
 * `bufferedAmount` (bytes in `ws` and the TCP socket's user-space buffer) — with a budget of
 * `budgets`. Past the budget, the reader gets a `connection:error` `SLOW_READER` (written straight
 * to its WebSocket, behind what it already has, since the engine.io buffer is stuck) and the
 * connection is closed, its buffers discarded; the TCP socket is destroyed
 * {@link SLOW_READER_CLOSE_GRACE_MS} later if the reader still has not taken the close.
 *
 * It reaches into engine.io's websocket transport (`transport.socket`, the `ws` WebSocket) for the
 * queued bytes and the direct write; on the polling transport only the write buffer is counted.
 *
 * @param socket - a reader connection.
 * @param budgets - the relay's reader budgets.
 * @param onDrop - told about each drop (for the log).
 * @returns the connection's budget, closed when the connection closes.
 */
export function watchSocketReader(
  socket: RelaySocket,
  budgets: ReaderBudgets,
  onDrop: (reason: SlowReaderReason, queuedBytes: number) => void,
): ReaderBudget {
  const conn = socket.conn;
  /** Bytes in engine.io's write buffer: packets created since the last flush to the transport. */
  let pending = 0;
  const transport = () => conn.transport as unknown as EngineTransport;
  const budget = budgets.create({
    queuedBytes() {
      const current = transport();
      return pending + (current.name === 'websocket' ? (current.socket?.bufferedAmount ?? 0) : 0);
    },
    drop(reason, queuedBytes) {
      onDrop(reason, queuedBytes);
      const limit = reason === 'maxQueuedBytesPerReader' ? `${budgets.limits.maxQueuedBytes} bytes queued` : `${budgets.limits.stallTimeoutMs} ms without progress`;
      const notice: ErrorPayload = {
        code: 'SLOW_READER',
        message: `The relay dropped this reader: it was not reading fast enough (${queuedBytes} bytes queued; the limit is ${limit}). Reconnect and resume from the last chunk received.`,
        retryInMs: 0,
      };
      const current = transport();
      const tcp = current.socket?._socket;
      if (current.name === 'websocket') {
        try {
          // engine.io "message" (4) carrying a Socket.IO EVENT (2) of the default namespace.
          current.socket?.send?.(`42${JSON.stringify(['connection:error', notice])}`);
        } catch {
          // the socket is already closing: the reader learns from the close alone
        }
      }
      conn.close(true); // discard the engine.io buffer: waiting for it to drain would wait for ever
      if (tcp && !tcp.destroyed) setTimeout(() => tcp.destroy(), SLOW_READER_CLOSE_GRACE_MS).unref();
    },
  });
  let uncheckedPackets = 0;
  const onPacket = (packet: EnginePacket) => {
    const bytes = packetBytes(packet);
    pending += bytes;
    // Measuring the queue costs more than a token-sized packet itself: a large packet is checked
    // at once, small ones every CHECK_EVERY_PACKETS (so at most that many small packets pass unchecked).
    if (bytes >= SMALL_PACKET_BYTES || ++uncheckedPackets >= CHECK_EVERY_PACKETS) {
      uncheckedPackets = 0;
      budget.noteQueued();
    }
  };
  const onFlush = () => {
    pending = 0;
    budget.noteProgress();
  };
  conn.on('packetCreate', onPacket);
  conn.on('flush', onFlush);
  socket.on('disconnect', () => {
    conn.off('packetCreate', onPacket);
    conn.off('flush', onFlush);
    budget.close();
  });
  return budget;
}
