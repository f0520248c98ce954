/** Markdown tables of a bench run (printed to the console and written next to the JSON). */
import { type BenchResults, generatorSaturated } from './results.js';
import { SATURATED } from './lib/generator-load.js';
import { FLOORS_INGEST_ONLY } from './scenarios/scenario.js';
import { SYSTEMS, type SystemId } from './systems.js';

/** Formats a number with thousands separators and `digits` decimals; `–` for NaN. */
export function formatNumber(value: number | null | undefined, digits: number): string {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The whole report as Markdown. */
export function markdownReport(results: BenchResults): string {
  const lines: string[] = [];
  const { machine } = results;
  lines.push(
    `Measured ${results.date} on ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGb} GB, Node ${machine.node}, loopback; ` +
      `${results.mode} run, median of ${results.runs} run${results.runs === 1 ? '' : 's'}; load average before / after: ${machine.loadBefore.split(' ').slice(0, 3).join(' ')} / ${machine.loadAfter.split(' ').slice(0, 3).join(' ')}. ` +
      `CPU pinning: ${machine.pinning ?? 'not pinned'}. Readers in live, fan-out and catch-up: ${machine.readers ?? 'client libraries'}. ` +
      `Command: \`${results.command}\` (${Math.round(results.durationSeconds)} s).`,
  );
  lines.push('');
  if (results.targets.length > 0) {
    lines.push('**Targets** (ss-relay, one process)', '', '| target | measured | goal | |', '|---|---:|---:|---|');
    for (const target of results.targets) {
      const digits = target.unit === 'chunks/s' || target.unit === 'bytes' ? 0 : 2;
      const verdict = target.why ? `not measured: ${target.why}` : target.met === null ? 'not measured' : target.met ? 'met' : 'missed';
      const limit = formatNumber(target.limit, Number.isInteger(target.limit) ? 0 : 1);
      const unit = (text: string) => (target.unit === '×' ? `${text}×` : `${text} ${target.unit}`);
      lines.push(`| ${target.name} | ${unit(formatNumber(target.value, digits))} | ${target.comparison} ${unit(limit)} | ${verdict} |`);
    }
    lines.push('');
  }
  if (results.comparisons.length > 0) {
    lines.push('**Ratios in the same run** (median of the per-run ratios)', '', '| comparison | ratio | per run |', '|---|---:|---|');
    for (const comparison of results.comparisons) {
      const digits = (ratio: number) => (ratio < 1 ? 2 : 1);
      lines.push(
        `| ${comparison.name} | ${formatNumber(comparison.median, digits(comparison.median))}× | ${comparison.perRun.map((ratio) => formatNumber(ratio, digits(ratio))).join(' / ')} |`,
      );
    }
    lines.push('');
  }
  for (const scenario of results.scenarios) {
    const rows = results.rows.filter((row) => row.scenario === scenario.id);
    if (rows.length === 0) continue;
    const hasVariant = rows.some((row) => row.variant !== '');
    lines.push(`**${scenario.title}** — ${scenario.description}`, '');
    const header = ['system', ...(hasVariant ? ['streams'] : []), ...scenario.columns.map((column) => column.label)];
    lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, index) => (index < (hasVariant ? 2 : 1) ? '---' : '---:')).join('|')}|`);
    for (const row of rows) {
      const failed = row.runs.find((run): run is { error: string } => 'error' in run);
      const cells = scenario.columns.map((column) => formatNumber(row.median[column.key], column.digits));
      if (failed && Object.keys(row.median).length === 0) cells.splice(0, cells.length, ...scenario.columns.map(() => 'failed'));
      const label = generatorSaturated(row) ? `${row.label} ⚠ generators saturated` : row.label;
      lines.push(`| ${[label, ...(hasVariant ? [row.variant.replace(/ streams?$/, '')] : []), ...cells].join(' | ')} |`);
    }
    // The floors' absence from every scenario but ingest goes without saying.
    const skipped = Object.entries(scenario.notApplicable).filter(([system, why]) => FLOORS_INGEST_ONLY[system as SystemId] !== why);
    for (const [system, why] of skipped) {
      const label = SYSTEMS[system as keyof typeof SYSTEMS].label;
      lines.push(`| ${label} | ${hasVariant ? '– | ' : ''}n/a: ${why} |${' |'.repeat(Math.max(0, scenario.columns.length - 1))}`);
    }
    if (rows.some(generatorSaturated)) {
      lines.push(
        '',
        `⚠ In the rows marked, the load generators used ≥ ${Math.round(SATURATED * 100)} % of their CPU: their own delays are in the latency, which is then not the server's alone.`,
      );
    }
    lines.push('');
  }
  const failures = results.rows.flatMap((row) =>
    row.runs.flatMap((run, index) => ('error' in run ? [`- ${row.scenario} / ${row.label}${row.variant ? ` / ${row.variant}` : ''}, run ${index + 1}: ${String(run.error).split('\n')[0]}`] : [])),
  );
  if (failures.length > 0) lines.push('**Failed runs**', '', ...failures, '');
  for (const [system, why] of Object.entries(results.unavailable)) lines.push(`- ${system} could not run here: ${why}`);
  return lines.join('\n');
}
