/** Sizes and durations of a bench run: the full run (the published figures) or `--quick`. */
export interface Settings {
  mode: 'full' | 'quick';
  runs: number;
  ingest: { streamCounts: number[]; chunks: number; capMs: number };
  live: { streams: number; rate: number; warmupMs: number; durationMs: number; readerProcesses: number };
  fanOut: { readers: number; rate: number; warmupMs: number; durationMs: number; readerProcesses: number };
  catchUp: { readers: number; chunks: number; resumeAt: number; resumeRepeats: number };
  idle: { streams: number };
  start: { repeats: number };
  /** Node flags for the main server process of `profileSystem` (CPU profiles). */
  profile?: { system: string; dir: string };
}

/** The published configuration (the scenarios). */
export const FULL: Settings = {
  mode: 'full',
  runs: 3,
  ingest: { streamCounts: [1, 100, 1000], chunks: 2000, capMs: 5000 },
  live: { streams: 500, rate: 50, warmupMs: 1000, durationMs: 30_000, readerProcesses: 1 },
  fanOut: { readers: 1000, rate: 50, warmupMs: 1000, durationMs: 5000, readerProcesses: 2 },
  catchUp: { readers: 50, chunks: 10_000, resumeAt: 9000, resumeRepeats: 5 },
  idle: { streams: 10_000 },
  start: { repeats: 20 },
};

/** A sanity run: one run each, shorter phases. */
export const QUICK: Settings = {
  mode: 'quick',
  runs: 1,
  ingest: { streamCounts: [1, 100, 1000], chunks: 1000, capMs: 1500 },
  live: { streams: 500, rate: 50, warmupMs: 1000, durationMs: 3000, readerProcesses: 1 },
  fanOut: { readers: 1000, rate: 50, warmupMs: 1000, durationMs: 2000, readerProcesses: 2 },
  catchUp: { readers: 50, chunks: 10_000, resumeAt: 9000, resumeRepeats: 3 },
  idle: { streams: 5000 },
  start: { repeats: 10 },
};
