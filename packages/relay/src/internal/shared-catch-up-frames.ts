import WebSocket from 'ws';
import type { RelayServer, RelaySocket } from './relay-socket.js';

/** Socket.IO's EVENT packet type (socket.io-parser `PacketType.EVENT`). */
export const EVENT = 2;

/** A `stream:chunks` frame encoded once: the Socket.IO packet and its WebSocket frame. */
interface EncodedFrame {
  /** The Socket.IO packet, for `onAnyOutgoing` listeners. */
  packet: { type: number; nsp: string; data: unknown[] };
  packets: unknown[];
  options: { preEncoded: true; wsPreEncodedFrame?: unknown };
}

/**
 * Catch-up frames sent to many readers, encoded once. Readers that start together (a page
 * reloaded in many tabs, a fan-out that reconnects) catch up from the same shared store read,
 * so they send the same frames: the JSON of a 1,024-chunk frame and its WebSocket frame are made
 * once per read instead of once per reader — what Socket.IO's own broadcast does for rooms.
 *
 * Frames are keyed by the read's array (identity) and the slice sent — a shared read has one
 * stream and one first seq, so the slice fixes the frame's seq — and they live exactly as long as
 * a reader still holds that read: nothing to bound or expire, and a frame can never be served for
 * another stream or a replaced one.
 *
 * Writing a pre-encoded packet goes through `socket.client._packet(…, { preEncoded: true })`, after
 * `socket.notifyOutgoingListeners(packet)` — the path Socket.IO's adapter takes for broadcasts
 * (socket.io 4.x), so `onAnyOutgoing` listeners still see every frame.
 */
export class SharedCatchUpFrames {
  private readonly frames = new WeakMap<readonly string[], Map<string, EncodedFrame>>();

  constructor(private readonly encoder: RelayServer['encoder']) {}

  /**
   * Sends `data[start..end)` of stream `streamId` as one `stream:chunks` frame starting at `seq`.
   * @param data - the array a shared store read returned (its identity is the cache key).
   */
  send(socket: RelaySocket, streamId: string, seq: number, data: readonly string[], start: number, end: number): void {
    let byRange = this.frames.get(data);
    if (!byRange) {
      byRange = new Map();
      this.frames.set(data, byRange);
    }
    const range = `${start}:${end}`;
    let frame = byRange.get(range);
    if (!frame) {
      frame = this.encode(streamId, seq, start === 0 && end === data.length ? data : data.slice(start, end));
      byRange.set(range, frame);
    }
    // As the adapter does for a broadcast: `onAnyOutgoing` listeners see the packet, then it is written.
    (socket as unknown as { notifyOutgoingListeners?(packet: object): void }).notifyOutgoingListeners?.(frame.packet);
    (socket.client as unknown as { _packet(packets: unknown[], options: object): void })._packet(frame.packets, frame.options);
  }

  private encode(streamId: string, seq: number, data: readonly string[]): EncodedFrame {
    const packet = { type: EVENT, nsp: '/', data: ['stream:chunks', { streamId, seq, data }] };
    const packets = this.encoder.encode(packet) as unknown[];
    const options: EncodedFrame['options'] = { preEncoded: true };
    if (packets.length === 1 && typeof packets[0] === 'string') {
      // The WebSocket frame of an engine.io "message" (4) carrying this packet, as Socket.IO's adapter makes it.
      options.wsPreEncodedFrame = (WebSocket as unknown as { Sender: { frame(data: Buffer, options: object): unknown } }).Sender.frame(Buffer.from(`4${packets[0]}`), {
        readOnly: false,
        mask: false,
        rsv1: false,
        opcode: 1,
        fin: true,
      });
    }
    return { packet, packets, options };
  }
}
