/**
 * Drives `count` streams at `ratePerSecond` each for `warmupMs + durationMs`, spreading them evenly
 * over each period (stream i sends at phase i/count), so the load is smooth rather than bursts of
 * `count`. `send(index, warm)` is called for each chunk of stream `index`; `warm` is true during
 * the warm-up (those chunks are delivered but not measured: JIT compilation and connection
 * buffers settle first, for every system alike).
 * @returns a promise that resolves after the last send, with the number of measured sends.
 */
export function runTicker(count: number, ratePerSecond: number, warmupMs: number, durationMs: number, send: (index: number, warm: boolean) => void): Promise<number> {
  const periodMs = 1000 / ratePerSecond;
  const warmup = Math.floor((warmupMs / periodMs) * count);
  const total = warmup + Math.floor((durationMs / periodMs) * count);
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / periodMs) * count) + 1);
      while (sent < due) {
        send(sent % count, sent < warmup);
        sent++;
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve(total - warmup);
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
}

/** A chunk of about 24 bytes that carries its send time (µs on the monotonic clock) and whether it is measured. */
export function timedChunk(sentAtUs: number, warm = false): string {
  const head = `${sentAtUs}|${warm ? 'w' : 'm'}`;
  return head.length >= 24 ? head : head + 'x'.repeat(24 - head.length);
}

/** Whether a {@link timedChunk} was sent after the warm-up. */
export function measured(chunk: string): boolean {
  return chunk.charCodeAt(chunk.indexOf('|') + 1) === 109; // 'm'
}

/** The send time carried by a {@link timedChunk}. */
export function sentAt(chunk: string): number {
  return Number(chunk.slice(0, chunk.indexOf('|')));
}

/** A 24-byte token-sized chunk for throughput runs. */
export const TOKEN = 'tok-abcdefghijklmnopqrst';
