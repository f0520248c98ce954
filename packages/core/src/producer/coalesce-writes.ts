/**
 * One system call per batch of frames on a producer connection (Node only; a no-op elsewhere).
 */
import type { Socket } from 'socket.io-client';

interface TcpLike {
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}

interface WebSocketTransport {
  name?: string;
  write?: (packets: unknown[]) => void;
  /** The `ws` WebSocket in Node; `ws` keeps the TCP socket in `_socket`. */
  ws?: { _socket?: TcpLike };
}

const patched = new WeakSet<object>();

/**
 * Makes the connection's WebSocket transport write each batch of queued packets with one system
 * call instead of one per packet.
 *
 * A flush of the connection emits one `mux:chunks` frame per stream with something to send.
 * engine.io-client writes the first at once and queues the rest until the next tick, then writes
 * them as a batch, but `ws` writes every packet as its own frame with its own `writev`. Corking the
 * TCP socket around the batch sends the same bytes, in the same order, in one write: with 500 live
 * streams that is one system call per flush instead of one per stream, on both ends.
 *
 * It reaches into engine.io-client's and ws's internals (`transport.ws._socket`); in a browser,
 * with the polling transport or another version, it does nothing. Call it after each connect (a
 * reconnect makes a new transport).
 *
 * @param socket - the producer's Socket.IO socket.
 */
export function coalesceWrites(socket: Socket): void {
  const transport = (socket.io as unknown as { engine?: { transport?: WebSocketTransport } }).engine?.transport;
  if (transport?.name !== 'websocket' || patched.has(transport)) return;
  const write = transport.write;
  const tcp = transport.ws?._socket;
  if (typeof write !== 'function' || !tcp || typeof tcp.cork !== 'function' || typeof tcp.uncork !== 'function') return;
  patched.add(transport);
  transport.write = function writeCorked(this: WebSocketTransport, packets: unknown[]) {
    if (packets.length < 2 || tcp.destroyed) {
      write.call(this, packets);
      return;
    }
    tcp.cork();
    try {
      write.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
}
