/**
 * `pnpm bench [--quick]`: starts every system under test as its own process on loopback, runs the
 * scenarios against each (load generators in other processes), prints the tables and writes
 * `results/<date>.json`, `results/<date>.md` and `results/<date>.svg`.
 *
 * Options: `--quick` (one short run), `--runs <n>`, `--scenarios ingest,live,fan-out,catch-up,idle,start`,
 * `--systems relay-memory,relay-redis,…`, `--profile <system>` (CPU profiles of that system's
 * server into results/profiles, each with a flame graph `.svg` and a self-time summary `.txt`),
 * `--out <dir>`, `--set live.streams=100` (override one setting).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { svgChart } from './chart.js';
import { listCpuProfiles, writeFlameGraph } from './flame-graph.js';
import { describePinning, setUpPinning } from './lib/cpu-pinning.js';
import { killAll } from './lib/processes.js';
import { loadAverage } from './lib/proc-stats.js';
import { markdownReport } from './report.js';
import { type BenchResults, type RowResult, checkTargets, compare, medians } from './results.js';
import { catchUp } from './scenarios/catch-up.js';
import { fanOut } from './scenarios/fan-out.js';
import { idleCost } from './scenarios/idle-cost.js';
import { ingest } from './scenarios/ingest.js';
import { liveLatency } from './scenarios/live-latency.js';
import type { Scenario } from './scenarios/scenario.js';
import { streamStart } from './scenarios/stream-start.js';
import { FULL, QUICK, type Settings } from './settings.js';
import { SYSTEMS, type SystemId } from './systems.js';

const SCENARIOS: Scenario[] = [ingest, liveLatency, fanOut, catchUp, idleCost, streamStart];

async function unavailableSystems(): Promise<Record<string, string>> {
  const unavailable: Record<string, string> = {};
  const redis = spawnSync(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--version'], { stdio: 'ignore' });
  if (redis.error || redis.status !== 0) {
    const why = 'redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER_BIN)';
    for (const system of ['relay-redis', 'relay-redis-2', 'resumable-stream', 'resumable-stream-http', 'redis-xadd']) unavailable[system] = why;
  }
  for (const [system, module] of [
    ['durable-streams', '@durable-streams/server'],
    ['resumable-stream', 'resumable-stream/ioredis'],
    ['resumable-stream-http', 'resumable-stream/ioredis'],
  ] as const) {
    try {
      await import(module);
    } catch (error) {
      unavailable[system] ??= `${module} does not load: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return unavailable;
}

const USAGE = `Usage: pnpm bench [options]

Starts every system under test as its own process on loopback, runs the scenarios against each and
writes results/<date>.json, .md and .svg. A full run takes about 26 minutes on 2 cores.

Options:
  --quick                one short run (< 2 min): figures NOT comparable with a full run's
  --runs <n>             runs per cell (the median is reported)
  --scenarios <list>     ingest,live,fan-out,catch-up,idle,start (comma separated)
  --systems <list>       relay-memory,relay-sse,relay-http,relay-redis,relay-redis-2,durable-streams,
                         resumable-stream,resumable-stream-http,socketio-1,socketio-64,socketio-relay,
                         redis-xadd (comma separated)
  --profile <system>     CPU profiles of that system's server into results/profiles, each with a
                         flame graph (.svg) and self time by package (.txt) beside it
  --out <dir>            where the results go (default apps/bench/results)
  --no-pin               do not pin servers to CPU 0 and load generators to the other CPUs (taskset)
  --set <group.key=v>    override one setting, e.g. --set live.streams=100 (repeatable)
  -h, --help             show this help`;

async function main(): Promise<void> {
  let values: {
    quick?: boolean;
    runs?: string;
    scenarios?: string;
    systems?: string;
    profile?: string;
    out?: string;
    set?: string[];
    'no-pin'?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        runs: { type: 'string' },
        scenarios: { type: 'string' },
        systems: { type: 'string' },
        profile: { type: 'string' },
        out: { type: 'string' },
        set: { type: 'string', multiple: true },
        'no-pin': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`pnpm bench: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(1);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.quick) {
    console.warn(
      'pnpm bench --quick: one short run with smaller loads. Its figures are NOT comparable with a full run (or with the published results); use them only to check that everything runs.',
    );
  }
  const base = values.quick ? QUICK : FULL;
  const outDir = resolve(values.out ?? join(fileURLToPath(new URL('..', import.meta.url)), 'results'));
  const settings: Settings = { ...base, runs: values.runs ? Number(values.runs) : base.runs };
  for (const assignment of values.set ?? []) {
    // `--set live.streams=100`: override one setting (for experiments; the published runs use none).
    const [path, raw] = assignment.split('=') as [string, string];
    const [group, key] = path.split('.') as [keyof Settings, string];
    const target = settings[group] as unknown as Record<string, unknown>;
    settings[group] = { ...target, [key]: raw.includes(',') ? raw.split(',').map(Number) : Number(raw) } as never;
  }
  if (values.profile) settings.profile = { system: values.profile, dir: join(outDir, 'profiles') };
  const onlyScenarios = values.scenarios?.split(',');
  const onlySystems = values.systems?.split(',') as SystemId[] | undefined;
  const scenarios = SCENARIOS.filter((scenario) => !onlyScenarios || onlyScenarios.includes(scenario.id));
  const unavailable = await unavailableSystems();
  const profilesBefore = new Set(listCpuProfiles(settings.profile?.dir));

  const cores = availableParallelism(); // before pinning narrows this process to the generators' cores
  const notPinned = setUpPinning(!values['no-pin']);
  const startedAt = Date.now();
  const loadBefore = loadAverage();
  const command = ['pnpm bench', ...process.argv.slice(2)].join(' ');
  console.log(`${command}: ${settings.mode} run, ${settings.runs} run(s), ${cores} cores, Node ${process.version}, load ${loadBefore}; ${notPinned ? `pinning ${notPinned}` : describePinning()}`);

  const rows: RowResult[] = [];
  for (const scenario of scenarios) {
    const cells = scenario.cells(settings).filter((cell) => (!onlySystems || onlySystems.includes(cell.system)) && !unavailable[cell.system]);
    for (const cell of cells) {
      rows.push({ scenario: scenario.id, system: cell.system, label: SYSTEMS[cell.system].label, variant: cell.variant, runs: [], median: {} });
    }
    // Runs are interleaved (run 1 of every row, then run 2…), so slow drift in the machine's load hits every system alike.
    for (let run = 0; run < settings.runs; run++) {
      for (const cell of cells) {
        const row = rows.find((candidate) => candidate.scenario === scenario.id && candidate.system === cell.system && candidate.variant === cell.variant)!;
        const began = performance.now();
        try {
          const metrics = await scenario.measure(cell, settings, run);
          row.runs.push(metrics);
          const shown = Object.entries(metrics).map(([key, value]) => `${key}=${value.toFixed(value >= 100 ? 0 : 2)}`).join(' ');
          console.log(`[${scenario.id}] run ${run + 1} ${row.label}${cell.variant ? ` ${cell.variant}` : ''}: ${shown} (${((performance.now() - began) / 1000).toFixed(1)} s)`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          row.runs.push({ error: message });
          console.log(`[${scenario.id}] run ${run + 1} ${row.label}${cell.variant ? ` ${cell.variant}` : ''}: FAILED ${message.split('\n')[0]}`);
        }
      }
    }
    for (const row of rows.filter((candidate) => candidate.scenario === scenario.id)) row.median = medians(row.runs);
  }

  const date = new Date().toISOString().slice(0, 10);
  const results: BenchResults = {
    date,
    command,
    mode: settings.mode,
    runs: settings.runs,
    machine: {
      nproc: cores,
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadBefore,
      loadAfter: loadAverage(),
      memoryGb: Math.round(totalmem() / 2 ** 30),
      pinning: notPinned ? `not pinned: ${notPinned}` : describePinning(),
      readers: process.env.BENCH_READERS === 'client' ? 'client libraries (BENCH_READERS=client)' : 'raw readers (each protocol on a bare WebSocket or SSE response)',
    },
    durationSeconds: (Date.now() - startedAt) / 1000,
    scenarios: scenarios.map((scenario) => ({
      id: scenario.id,
      title: scenario.title,
      description: scenario.description(settings),
      columns: scenario.columns,
      notApplicable: scenario.notApplicable as Record<string, string>,
    })),
    rows,
    comparisons: compare(rows),
    targets: checkTargets(rows),
    unavailable,
  };
  const report = markdownReport(results);
  console.log(`\n${report}`);
  mkdirSync(outDir, { recursive: true });
  const stem = settings.mode === 'quick' ? `${date}-quick` : date;
  writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, `${stem}.md`), `${report}\n`);
  writeFileSync(join(outDir, `${stem}.svg`), svgChart(results));
  console.log(`\nWrote ${join(outDir, `${stem}.{json,md,svg}`)}`);
  for (const profile of listCpuProfiles(settings.profile?.dir).filter((file) => !profilesBefore.has(file))) {
    console.log(`Wrote ${writeFlameGraph(profile).written.join(' and ')}`);
  }
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  },
);
