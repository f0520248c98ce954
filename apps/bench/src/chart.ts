/** An SVG chart of the headline figures, for the README (no dependency: plain SVG text). */
import type { BenchResults, RowResult } from './results.js';
import { formatNumber } from './report.js';

interface Panel {
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
  bars: Array<{ label: string; value: number; ours: boolean }>;
}

const WIDTH = 960;
const LABEL_WIDTH = 300;
const BAR_HEIGHT = 18;
const GAP = 6;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panelsOf(results: BenchResults): Panel[] {
  const pick = (scenario: string, variant: string, metric: string) =>
    results.rows
      .filter((row: RowResult) => row.scenario === scenario && row.variant === variant && !Number.isNaN(row.median[metric] ?? Number.NaN))
      .map((row) => ({ label: row.label, value: row.median[metric]!, ours: row.system.startsWith('relay-') }));
  const panels: Panel[] = [
    { title: 'Ingest, 1,000 streams — acknowledged chunks/s', unit: '/s', better: 'higher', digits: 0, bars: pick('ingest', '1000 streams', 'ackedPerSec') },
    { title: 'Ingest, 100 streams — acknowledged chunks/s', unit: '/s', better: 'higher', digits: 0, bars: pick('ingest', '100 streams', 'ackedPerSec') },
    { title: 'Live latency p99 (ms), 500 streams × 50 chunks/s', unit: ' ms', better: 'lower', digits: 1, bars: pick('live', '', 'p99Ms') },
    { title: 'Fan-out p99 (ms), 1 stream → 1,000 readers', unit: ' ms', better: 'lower', digits: 1, bars: pick('fan-out', '', 'p99Ms') },
    { title: 'Catch-up (ms), 50 readers × 10,000 chunks', unit: ' ms', better: 'lower', digits: 0, bars: pick('catch-up', '', 'allMs') },
  ];
  return panels.filter((panel) => panel.bars.length > 0);
}

/** Renders the chart. Bars are linear in each panel; the caption says which way is better. */
export function svgChart(results: BenchResults): string {
  const panels = panelsOf(results);
  const parts: string[] = [];
  let y = 40;
  parts.push(
    `<text x="16" y="24" font-size="16" font-weight="bold">ss-relay vs peers — ${escapeXml(results.date)}, ${results.machine.nproc} cores, Node ${escapeXml(results.machine.node)}, median of ${results.runs}</text>`,
  );
  for (const panel of panels) {
    y += 22;
    const max = Math.max(...panel.bars.map((bar) => bar.value));
    const min = Math.min(...panel.bars.map((bar) => bar.value).filter((value) => value > 0));
    // A panel whose values span more than 50× is drawn on a log scale, so the small bars stay visible.
    const log = min > 0 && max / min > 50;
    const floor = log ? Math.log10(min) - 1 : 0;
    const scale = (value: number) => (log ? (Math.log10(Math.max(value, min)) - floor) / (Math.log10(max) - floor) : value / max);
    const note = `${panel.better} is better${log ? ', log scale' : ''}`;
    parts.push(`<text x="16" y="${y}" font-size="13" font-weight="bold">${escapeXml(panel.title)} <tspan font-weight="normal" fill="#666">(${note})</tspan></text>`);
    y += 8;
    for (const bar of panel.bars) {
      const width = max > 0 ? Math.max(1, (WIDTH - LABEL_WIDTH - 140) * scale(bar.value)) : 1;
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 5}" font-size="12" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${bar.ours ? '#2563eb' : '#9ca3af'}"/>`,
        `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 5}" font-size="12">${escapeXml(formatNumber(bar.value, panel.digits))}${escapeXml(panel.unit)}</text>`,
      );
      y += BAR_HEIGHT + GAP;
    }
    y += 6;
  }
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
