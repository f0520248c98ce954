// The Socket.IO floor: a bare Socket.IO server that acknowledges every emit at once, storing nothing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: 16 * 1024 * 1024 });
io.on('connection', (socket) => {
  socket.on('m', (data: unknown, ack: (count: number) => void) => ack(Array.isArray(data) ? data.length : 1));
});
httpServer.listen(0, '127.0.0.1', () => {
  console.log(`socketio-floor listening on http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => io.close(() => process.exit(0)));
