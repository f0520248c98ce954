// A producer written by hand with plain socket.io-client, speaking the `mux` extension of the wire
// protocol (Authorization header, `mux:open`, `mux:chunks`, `mux:end`): what a third-party producer
// would do. Every frame waits for its ack, so "written" means "stored by the relay".
import type { EndReason, MuxCancel } from '@ss/core/protocol';
import { io, type Socket } from 'socket.io-client';

export interface MuxProducer extends AsyncDisposable {
  readonly socket: Socket;
  /** `mux:cancel` frames received. */
  readonly cancels: MuxCancel[];
  open(streamId: string): Promise<void>;
  /** Writes `data` as the stream's next chunks (one frame). */
  write(streamId: string, data: string[]): Promise<void>;
  end(streamId: string, reason?: EndReason): Promise<void>;
  /** The next seq of `streamId`. */
  nextSeq(streamId: string): number;
  close(): void;
}

function check(ack: unknown, what: string): void {
  const result = ack as { ok?: boolean; error?: { code: string; message: string } };
  if (result?.ok !== true) throw new Error(`${what} refused: ${JSON.stringify(result?.error ?? ack)}`);
}

export async function startMuxProducer(url: string, apiKey: string): Promise<MuxProducer> {
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    extraHeaders: { Authorization: `Bearer ${apiKey}` },
    auth: { role: 'producer', version: 'stream-v1', extensions: ['mux'], sdkVersion: 'client-test' },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const seqs = new Map<string, number>();
  const cancels: MuxCancel[] = [];
  socket.on('mux:cancel', (cancel: MuxCancel) => cancels.push(cancel));
  const producer: MuxProducer = {
    socket,
    cancels,
    async open(streamId) {
      check(await socket.timeout(5_000).emitWithAck('mux:open', { streamId }), 'mux:open');
      seqs.set(streamId, 0);
    },
    async write(streamId, data) {
      const seq = producer.nextSeq(streamId);
      check(await socket.timeout(5_000).emitWithAck('mux:chunks', { streamId, seq, data }), 'mux:chunks');
      seqs.set(streamId, seq + data.length);
    },
    async end(streamId, reason = 'completed') {
      check(await socket.timeout(5_000).emitWithAck('mux:end', { streamId, reason, lastSeq: producer.nextSeq(streamId) - 1 }), 'mux:end');
    },
    nextSeq(streamId) {
      const seq = seqs.get(streamId);
      if (seq === undefined) throw new Error(`stream ${streamId} is not open`);
      return seq;
    },
    close() {
      socket.close();
    },
    async [Symbol.asyncDispose]() {
      socket.close();
    },
  };
  return producer;
}

/** The encoded chunk `index` of a test stream: JSON of a string, so the decoded chunks concatenate. */
export function token(index: number): string {
  return JSON.stringify(`t${index} `);
}

/** The text of chunks `from` to `to - 1`, as a reader that decodes and concatenates sees it. */
export function expectedText(from: number, to: number): string {
  let text = '';
  for (let index = from; index < to; index++) text += `t${index} `;
  return text;
}

/** Writes chunks `[from, to)` in frames of varying size (1…maxFrame), yielding to the event loop between frames. */
export async function writeRange(producer: MuxProducer, streamId: string, from: number, to: number, maxFrame = 64, pauseMs = 0): Promise<void> {
  let index = from;
  let frame = 1;
  while (index < to) {
    const size = Math.min(frame, to - index);
    await producer.write(
      streamId,
      Array.from({ length: size }, (_, offset) => token(index + offset)),
    );
    index += size;
    frame = (frame * 7 + 3) % maxFrame || 1;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
