// Preloaded (`--import`, with `--expose-gc`) into a server process for the idle-cost scenario only:
// on SIGUSR2 it runs a full garbage collection and prints the heap in use and the resident size,
// so the figure is what the server keeps per stream, not garbage that no collection has swept yet.
const collect = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  collect?.();
  collect?.();
  const usage = process.memoryUsage();
  process.stderr.write(`[gc-probe] heapUsed=${usage.heapUsed} rss=${usage.rss}\n`);
});
