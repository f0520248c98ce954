/**
 * Just enough of Socket.IO (protocol v5, over Engine.IO v4 on a bare WebSocket from `ws`) for a
 * load generator: connect to the default namespace with an `auth` payload, answer pings, receive
 * events, emit with an ack. No reconnection, no buffering, no binary packets, no polling: what a
 * browser's socket.io-client does on the wire, for a fraction of its CPU, so thousands of readers
 * fit in one process.
 *
 * The wire, one Engine.IO packet per WebSocket text frame: `0{…}` open (server), `2` ping (server)
 * → `3` pong, `1` close, `4…` a Socket.IO packet: `40{auth}` connect → `40{"sid":…}` or
 * `44{"message":…,"data":…}` refused, `42["event",payload]` an event, `42<id>["event",payload]`
 * one that wants an ack, `43<id>[answer]` the ack, `41` disconnect.
 */
import WebSocket from 'ws';

/** What the connection reports. Called in the order the frames arrive. */
export interface SocketIoConsumerHandlers {
  /** The namespace accepted the connection (Socket.IO `connect`). */
  onConnect?(): void;
  /** An event from the server. */
  onEvent(name: string, payload: unknown): void;
  /** The namespace refused the connection (Socket.IO `connect_error`): `data` is the server's `{ code, message }`. */
  onConnectError?(message: string, data: unknown): void;
  /** The connection is gone (whatever the reason); nothing is called after this. */
  onClose?(reason: string): void;
}

/** An open (or opening) connection. */
export interface SocketIoConsumer {
  /** Emits `name` with `payload`; `onAck` gets the server's answer. */
  emitWithAck(name: string, payload: unknown, onAck: (answer: unknown) => void): void;
  /** Closes the connection (Socket.IO disconnect, then the WebSocket close). */
  close(): void;
}

/**
 * Connects to a Socket.IO server at `baseUrl` (`http://host:port`) under `path`.
 * @param auth - the CONNECT packet's auth payload (what socket.io-client sends as `auth`).
 */
export function connectSocketIo(baseUrl: string, path: string, auth: object, handlers: SocketIoConsumerHandlers): SocketIoConsumer {
  const url = new URL(path, baseUrl.replace(/^http/, 'ws'));
  url.searchParams.set('EIO', '4');
  url.searchParams.set('transport', 'websocket');
  // No compression (engine.io does not enable it by default) and no UTF-8 validation of each frame.
  const socket = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  const acks = new Map<number, (answer: unknown) => void>();
  let nextAckId = 0;
  let closed = false;

  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    acks.clear();
    handlers.onClose?.(reason);
  };

  const onSocketIoPacket = (text: string) => {
    const type = text.charCodeAt(1);
    if (type === 50 /* '2' event */) {
      // `42["name",payload]` (no ack id: the server never asks a reader for one)
      const [name, payload] = JSON.parse(text.slice(2)) as [string, unknown];
      handlers.onEvent(name, payload);
    } else if (type === 51 /* '3' ack */) {
      const open = text.indexOf('[');
      const id = Number(text.slice(2, open));
      const onAck = acks.get(id);
      acks.delete(id);
      onAck?.((JSON.parse(text.slice(open)) as unknown[])[0]);
    } else if (type === 48 /* '0' connect */) {
      handlers.onConnect?.();
    } else if (type === 52 /* '4' connect error */) {
      const error = JSON.parse(text.slice(2)) as { message?: string; data?: unknown };
      handlers.onConnectError?.(error.message ?? 'connect_error', error.data);
    } else if (type === 49 /* '1' disconnect */) {
      socket.close();
      finish('io server disconnect');
    }
  };

  socket.on('message', (data: Buffer) => {
    const text = data.toString();
    switch (text.charCodeAt(0)) {
      case 52: // '4' message: a Socket.IO packet
        onSocketIoPacket(text);
        break;
      case 50: // '2' ping
        socket.send('3');
        break;
      case 48: // '0' open: the Engine.IO session exists; join the namespace (its ping interval is the server's business: it pings, we answer)
        socket.send(`40${JSON.stringify(auth)}`);
        break;
      case 49: // '1' close
        socket.close();
        finish('transport close');
        break;
      // '6' noop
    }
  });
  socket.on('error', (error) => finish(`transport error: ${error.message}`));
  socket.on('close', () => finish('transport close'));

  return {
    emitWithAck(name, payload, onAck) {
      if (closed || socket.readyState !== WebSocket.OPEN) return;
      const id = nextAckId++;
      acks.set(id, onAck);
      socket.send(`42${id}${JSON.stringify([name, payload])}`);
    },
    close() {
      if (socket.readyState === WebSocket.OPEN) socket.send('41');
      socket.close();
      finish('io client disconnect');
    },
  };
}
