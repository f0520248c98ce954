/**
 * Flame graphs of the servers' CPU profiles (`pnpm bench --profile <system>`), for the README: a V8
 * `.cpuprofile` (written by `node --cpu-prof`) becomes a self-contained SVG and a text summary of
 * self time by group — the figures to compare before and after a change. No dependency: plain SVG text.
 *
 * Standalone: `node dist/flame-graph.js <file.cpuprofile>…` writes `<file>.svg` and `<file>.txt` beside
 * each profile and prints the summary.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of V8's `.cpuprofile` format read here. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }>;
  /** Microseconds. */
  startTime: number;
  endTime: number;
  /** The node id of each sample's innermost frame. */
  samples: number[];
  /** Microseconds from the previous sample (from `startTime` for the first) to this one. */
  timeDeltas: number[];
}

type Kind = 'package' | 'ours' | 'node' | 'writev' | 'gc' | 'other';

/** One function in one file under one stack of callers (calls from different lines merged). */
interface Frame {
  name: string;
  /** The package (node_modules), the file (ours, `node:…`), `native`, or empty (GC). */
  where: string;
  group: string;
  kind: Kind;
  selfUs: number;
  totalUs: number;
  children: Map<string, Frame>;
}

/** What `flameGraph` returns: the SVG and the text summary. */
export interface FlameGraph {
  svg: string;
  summary: string;
}

const DROPPED = new Set(['(idle)', '(program)', '(root)']);

/** Where a frame's code lives, and the group its self time is counted in. */
function locate(functionName: string, url: string): Pick<Frame, 'where' | 'group' | 'kind'> {
  if (!url) {
    if (functionName === '(garbage collector)') return { where: '', group: 'GC', kind: 'gc' };
    if (functionName === 'writev') return { where: 'native', group: 'writev', kind: 'writev' };
    return { where: 'native', group: 'node internals', kind: 'node' };
  }
  if (url.startsWith('node:')) return { where: url, group: 'node internals', kind: 'node' };
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = path.slice(modules + '/node_modules/'.length).split('/');
    const pkg = scope.startsWith('@') ? `${scope}/${name}` : scope;
    return { where: pkg, group: pkg, kind: 'package' };
  }
  const ours = /\/((?:packages|apps)\/[^/]+)\/(.*)$/.exec(path);
  if (ours) return { where: `${ours[1]}/${ours[2]}`, group: ours[1]!, kind: 'ours' };
  return { where: basename(path), group: 'other', kind: 'other' };
}

/** Each sample's duration: until the next sample (the last one: until the profile's end). */
function sampleDurations(profile: CpuProfile): number[] {
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  const times = samples.map((_, index) => (at += timeDeltas[index] ?? 0));
  return times.map((time, index) => Math.max(0, (times[index + 1] ?? Math.max(profile.endTime, time)) - time));
}

/** Merges V8's tree (one node per call site) into one frame per function and file under each stack. */
function mergeStacks(profile: CpuProfile): { root: Frame; droppedUs: Record<string, number> } {
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error('not a V8 .cpuprofile (nodes, samples and timeDeltas expected)');
  }
  const selfUs = new Map<number, number>();
  const durations = sampleDurations(profile);
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + durations[index]!);
  });
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const isChild = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const top = profile.nodes.find((node) => !isChild.has(node.id));
  if (!top) throw new Error('the profile has no root node');

  const root: Frame = { name: 'all', where: '', group: '', kind: 'other', selfUs: 0, totalUs: 0, children: new Map() };
  const droppedUs: Record<string, number> = {};
  const pending: Array<{ id: number; parent: Frame }> = (top.children ?? []).map((id) => ({ id, parent: root }));
  while (pending.length > 0) {
    const { id, parent } = pending.pop()!;
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url } = node.callFrame;
    if (DROPPED.has(functionName) && !url) {
      droppedUs[functionName] = (droppedUs[functionName] ?? 0) + (selfUs.get(id) ?? 0);
      continue;
    }
    const name = functionName || '(anonymous)';
    const key = `${name}\u0000${url}`;
    let frame = parent.children.get(key);
    if (!frame) {
      frame = { name, ...locate(functionName, url), selfUs: 0, totalUs: 0, children: new Map() };
      parent.children.set(key, frame);
    }
    frame.selfUs += selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) pending.push({ id: child, parent: frame });
  }
  const total = (frame: Frame): number => {
    frame.totalUs = frame.selfUs;
    for (const child of frame.children.values()) frame.totalUs += total(child);
    return frame.totalUs;
  };
  total(root);
  return { root, droppedUs };
}

function* walk(frame: Frame): Generator<Frame> {
  yield frame;
  for (const child of frame.children.values()) yield* walk(child);
}

function label(frame: Frame): string {
  return frame.where ? `${frame.name} (${frame.where})` : frame.name;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const ms = (us: number, digits = 1) => (us / 1000).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const percent = (part: number, whole: number) => (whole > 0 ? ((100 * part) / whole).toFixed(1) : '0.0');
const seconds = (us: number) => `${(us / 1e6).toFixed(2)} s`;

/** Self time summed by group, largest first. */
function selfByGroup(root: Frame): Array<{ group: string; kind: Kind; selfUs: number }> {
  const groups = new Map<string, { group: string; kind: Kind; selfUs: number }>();
  for (const frame of walk(root)) {
    if (frame === root) continue;
    const entry = groups.get(frame.group) ?? { group: frame.group, kind: frame.kind, selfUs: 0 };
    entry.selfUs += frame.selfUs;
    groups.set(frame.group, entry);
  }
  return [...groups.values()].filter((entry) => entry.selfUs > 0).sort((a, b) => b.selfUs - a.selfUs);
}

/** Self time summed by function and file (over all its stacks), largest first. */
function selfByFunction(root: Frame): Array<{ label: string; selfUs: number }> {
  const functions = new Map<string, number>();
  for (const frame of walk(root)) if (frame !== root) functions.set(label(frame), (functions.get(label(frame)) ?? 0) + frame.selfUs);
  return [...functions].map(([name, selfUs]) => ({ label: name, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
}

const KIND_NAMES: Record<Kind, string> = {
  package: 'node_modules package',
  ours: 'our packages',
  node: 'node internals',
  writev: 'writev',
  gc: 'GC',
  other: 'other',
};

function hash(text: string): number {
  let value = 0;
  for (let index = 0; index < text.length; index++) value = (value * 31 + text.charCodeAt(index)) >>> 0;
  return (value % 1000) / 1000;
}

/** Orange for packages, blue for ours, grey-green for Node, red for writev, purple for GC; varied by name. */
function color(kind: Kind, name: string): string {
  const jitter = hash(name);
  switch (kind) {
    case 'package':
      return `hsl(${Math.round(15 + 25 * jitter)}, 90%, ${Math.round(58 + 8 * jitter)}%)`;
    case 'ours':
      return `hsl(${Math.round(200 + 20 * jitter)}, 70%, ${Math.round(62 + 10 * jitter)}%)`;
    case 'node':
      return `hsl(${Math.round(60 + 20 * jitter)}, 25%, ${Math.round(68 + 8 * jitter)}%)`;
    case 'writev':
      return 'hsl(0, 75%, 58%)';
    case 'gc':
      return 'hsl(280, 45%, 68%)';
    default:
      return 'hsl(0, 0%, 80%)';
  }
}

const WIDTH = 1200;
const PAD = 10;
const ROW = 17;
const FONT = 11;
const CHAR_WIDTH = 6.7; // of an 11px monospace font
const TOP = 58;

/**
 * Renders a profile as a flame graph (callers below, callees above, width = sample time, widest
 * first) and summarizes its self time by group and by function.
 * @param profile - a parsed V8 `.cpuprofile`
 * @param name - what the title calls it (the file name)
 * @returns the SVG text and the text summary
 * @example
 * const { svg, summary } = flameGraph(JSON.parse(readFileSync(file, 'utf8')), basename(file));
 */
export function flameGraph(profile: CpuProfile, name: string): FlameGraph {
  const { root, droppedUs } = mergeStacks(profile);
  const busyUs = root.totalUs;
  const profiledUs = profile.endTime - profile.startTime;
  const groups = selfByGroup(root);
  const functions = selfByFunction(root);
  const headline = `${name}: busy ${seconds(busyUs)} of ${seconds(profiledUs)} profiled (${percent(busyUs, profiledUs)} % of one core)`;
  const left = `idle ${seconds(droppedUs['(idle)'] ?? 0)} and (program) ${seconds(droppedUs['(program)'] ?? 0)} left out`;

  // Summary: the figures a reader compares before and after.
  const column = Math.max(24, ...groups.map((entry) => entry.group.length), ...functions.slice(0, 30).map((entry) => entry.label.length)) + 2;
  const line = (text: string, us: number) => `  ${text.padEnd(column)}${ms(us).padStart(10)}${percent(us, busyUs).padStart(8)}`;
  const summary = [
    headline,
    `${left}; percentages are of the busy time`,
    '',
    `  ${'self time by group'.padEnd(column)}${'ms'.padStart(10)}${'%'.padStart(8)}`,
    ...groups.map((entry) => line(entry.group, entry.selfUs)),
    '',
    `  ${'self time by kind'.padEnd(column)}${'ms'.padStart(10)}${'%'.padStart(8)}`,
    ...(Object.keys(KIND_NAMES) as Kind[])
      .map((kind) => ({ kind, selfUs: groups.filter((entry) => entry.kind === kind).reduce((sum, entry) => sum + entry.selfUs, 0) }))
      .filter((entry) => entry.selfUs > 0)
      .sort((a, b) => b.selfUs - a.selfUs)
      .map((entry) => line(KIND_NAMES[entry.kind], entry.selfUs)),
    '',
    `  ${'self time by function (top 30)'.padEnd(column)}${'ms'.padStart(10)}${'%'.padStart(8)}`,
    ...functions.slice(0, 30).map((entry) => line(entry.label, entry.selfUs)),
    '',
  ].join('\n');

  // SVG: rows from the bottom (the whole busy time) up; frames under 1 px are not drawn.
  const scale = busyUs > 0 ? (WIDTH - 2 * PAD) / busyUs : 0;
  const visible = (frame: Frame) => frame.totalUs * scale >= 1;
  const depth = (frame: Frame): number => 1 + Math.max(0, ...[...frame.children.values()].filter(visible).map(depth));
  const rows = depth(root);
  const legendY = TOP + rows * ROW + 14;
  const height = legendY + 22;
  const parts: string[] = [];
  const draw = (frame: Frame, x: number, level: number) => {
    if (!visible(frame)) return;
    const width = frame.totalUs * scale;
    const y = TOP + (rows - 1 - level) * ROW;
    const text = frame === root ? `all: busy ${seconds(busyUs)}` : label(frame);
    const tip = `${text}\n${ms(frame.totalUs)} ms, ${percent(frame.totalUs, busyUs)} % of busy time (self ${ms(frame.selfUs)} ms, ${percent(frame.selfUs, busyUs)} %)`;
    const fits = Math.floor((width - 6) / CHAR_WIDTH);
    const shown = fits >= text.length ? text : fits >= 3 ? `${text.slice(0, fits - 1)}…` : '';
    parts.push(
      `<g><title>${escapeXml(tip)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${ROW - 1}" rx="2" fill="${frame === root ? '#d4d4d8' : color(frame.kind, frame.group)}"/>${
        shown ? `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 5}">${escapeXml(shown)}</text>` : ''
      }</g>`,
    );
    let childX = x;
    for (const child of [...frame.children.values()].sort((a, b) => b.totalUs - a.totalUs)) {
      draw(child, childX, level + 1);
      childX += child.totalUs * scale;
    }
  };
  draw(root, PAD, 0);
  const topGroups = groups
    .slice(0, 8)
    .map((entry) => `${entry.group} ${percent(entry.selfUs, busyUs)} %`)
    .join(' · ');
  let legendX = PAD;
  const legend = (Object.keys(KIND_NAMES) as Kind[]).map((kind) => {
    const item = `<rect x="${legendX}" y="${legendY}" width="12" height="12" rx="2" fill="${color(kind, KIND_NAMES[kind])}"/><text x="${legendX + 17}" y="${legendY + 10}">${KIND_NAMES[kind]}</text>`;
    legendX += 30 + KIND_NAMES[kind].length * CHAR_WIDTH;
    return item;
  });
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace" font-size="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PAD}" y="20" font-size="14" font-weight="bold">${escapeXml(headline)}</text>`,
    `<text x="${PAD}" y="38" fill="#444">${escapeXml(`self time: ${topGroups}`)}</text>`,
    `<text x="${PAD}" y="52" fill="#777">${escapeXml(`width = sample time; callers below, callees above; ${left}; hover a frame for its share`)}</text>`,
    ...parts,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
  return { svg, summary };
}

/**
 * Writes `<stem>.svg` and `<stem>.txt` beside a `.cpuprofile`.
 * @param file - path of the `.cpuprofile`
 * @returns the paths written and the summary
 */
export function writeFlameGraph(file: string): { written: string[]; summary: string } {
  let graph: FlameGraph;
  try {
    graph = flameGraph(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, basename(file));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
  }
  const { svg, summary } = graph;
  const stem = file.replace(/\.cpuprofile$/, '');
  writeFileSync(`${stem}.svg`, svg);
  writeFileSync(`${stem}.txt`, summary);
  return { written: [`${stem}.svg`, `${stem}.txt`], summary };
}

/** The `.cpuprofile` files in `dir` (none when `dir` is undefined or missing). */
export function listCpuProfiles(dir: string | undefined): string[] {
  if (!dir) return [];
  try {
    return readdirSync(dir)
      .filter((entry) => entry.endsWith('.cpuprofile'))
      .map((entry) => join(dir, entry));
  } catch {
    return [];
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0 || files.some((file) => file.startsWith('-'))) {
    console.error('Usage: node dist/flame-graph.js <file.cpuprofile>…  (writes <file>.svg and <file>.txt beside each)');
    process.exit(1);
  }
  for (const file of files) {
    try {
      const { written, summary } = writeFlameGraph(file);
      console.log(`${summary}\nWrote ${written.join(' and ')}\n`);
    } catch (error) {
      console.error((error as Error).message);
      process.exitCode = 1;
    }
  }
}
