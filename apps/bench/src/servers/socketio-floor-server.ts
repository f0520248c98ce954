// The Socket.IO floors: a bare Socket.IO server with nothing of ours on top, storing nothing.
// - Ingest: `m` is acknowledged at once.
// - Live: a producer's `b` (`[{ s: streamId, q: seq, d: chunks }]`, the shape of the relay's
//   `mux:batch`) is acknowledged and each part re-emitted to its stream's room as `stream:chunks`;
//   `e` sends `stream:end`. Readers join a room with the relay's handshake (`auth.subscribe`) and
//   `consumer:subscribe`, so the bench's readers read it as they read the relay — minus tokens,
//   storage, ordering checks, budgets and metrics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: 16 * 1024 * 1024 });
io.on('connection', (socket) => {
  socket.on('m', (data: unknown, ack: (count: number) => void) => ack(Array.isArray(data) ? data.length : 1));
  socket.on('b', (frames: Array<{ s: string; q: number; d: string[] }>, ack?: (count: number) => void) => {
    for (const frame of frames) io.to(frame.s).emit('stream:chunks', { streamId: frame.s, seq: frame.q, data: frame.d });
    ack?.(frames.length);
  });
  socket.on('e', (streamId: string, lastSeq: number) => io.to(streamId).emit('stream:end', { streamId, reason: 'completed', lastSeq }));
  const subscribe = (socket.handshake.auth as { subscribe?: { streamId?: unknown } }).subscribe;
  if (typeof subscribe?.streamId === 'string') socket.join(subscribe.streamId);
  socket.on('consumer:subscribe', (payload: { streamId: string }, ack?: (answer: object) => void) => {
    socket.join(payload.streamId);
    ack?.({ ok: true });
  });
});
httpServer.listen(0, '127.0.0.1', () => {
  console.log(`socketio-floor listening on http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => io.close(() => process.exit(0)));
