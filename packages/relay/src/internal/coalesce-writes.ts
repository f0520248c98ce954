import type { Socket as TcpSocket } from 'node:net';
import type { RelaySocket } from './relay-socket.js';

interface WebSocketTransport {
  name?: string;
  send?: (packets: unknown[]) => void;
  /** The `ws` WebSocket; `ws` keeps the TCP socket in `_socket`. */
  socket?: { _socket?: TcpSocket };
}

const patched = new WeakSet<object>();

/**
 * Makes a connection's WebSocket transport write every batch of queued packets with one system
 * call instead of one per packet.
 *
 * engine.io sends a packet at once when the socket is idle and queues the ones that follow until
 * that write completes; it then sends the queue as a batch, but `ws` writes each packet as its own
 * frame with its own `writev`. On a busy producer connection (an ack per frame of every stream)
 * that is one system call per message, the relay's largest single cost. Corking the TCP socket
 * around the batch turns it into one write of the same bytes, in the same order: nothing waits
 * longer than before. (Readers' connections are left alone: a live reader gets one message per
 * write anyway, and a per-connection wrapper on a thousand of them costs more than it saves.)
 *
 * It reaches into engine.io's and ws's internals (`transport.socket._socket`); when they are not
 * there (the polling transport, another version), it does nothing.
 *
 * @param socket - a connection of the relay.
 */
export function coalesceWrites(socket: RelaySocket): void {
  const transport = socket.conn.transport as unknown as WebSocketTransport;
  const tcp = transport.socket?._socket;
  const send = transport.send;
  if (transport.name !== 'websocket' || typeof send !== 'function' || !tcp || typeof tcp.cork !== 'function' || patched.has(transport)) return;
  patched.add(transport);
  transport.send = function sendCorked(this: WebSocketTransport, packets: unknown[]) {
    if (packets.length < 2 || tcp.destroyed) {
      send.call(this, packets);
      return;
    }
    tcp.cork();
    try {
      send.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
}
