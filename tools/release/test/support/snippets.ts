// README code blocks and their kinds (see docs/readme-snippets.md).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './workspace.js';

export const RUNNABLE_LANGUAGES = new Set(['ts', 'tsx', 'js', 'mjs', 'typescript', 'javascript']);

export interface Snippet {
  /** `packages/express/README.md:12` (the line of the opening fence). */
  where: string;
  language: string;
  code: string;
  kind: 'program' | 'server' | 'fragment';
  /** For a server: the request the test sends. */
  path?: string;
  body?: unknown;
}

/** Every README the test covers: the root one and each package's. */
export function readmes(): string[] {
  const files = [join(root, 'README.md')];
  for (const entry of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', entry, 'README.md');
    if (existsSync(file)) files.push(file);
  }
  return files;
}

const MARKER = /^<!--\s*snippet:\s*(program|server|fragment)\b(.*?)-->\s*$/;

/**
 * The runnable-language code blocks of a README, with the kind its marker gives.
 * @throws when a marker is malformed (an unknown kind, a server without a path, a body that is not JSON).
 */
export function snippetsOf(file: string): Snippet[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\w+)\s*$/.exec(lines[index]!);
    if (!open) {
      if (/^```/.test(lines[index]!)) {
        // A fence without a language (or an info string we do not run): skip its body.
        const close = lines.findIndex((line, at) => at > index && /^```\s*$/.test(line));
        if (close > index) index = close;
      }
      continue;
    }
    const close = lines.findIndex((line, at) => at > index && /^```\s*$/.test(line));
    if (close < 0) throw new Error(`${relative(root, file)}:${index + 1}: code block never closed`);
    const language = open[1]!;
    const code = lines.slice(index + 1, close).join('\n');
    const where = `${relative(root, file)}:${index + 1}`;
    const previous = lines[index - 1] ?? '';
    index = close;
    if (!RUNNABLE_LANGUAGES.has(language)) continue;
    const marker = MARKER.exec(previous.trim());
    if (previous.trim().startsWith('<!-- snippet') && !marker) throw new Error(`${where}: malformed snippet marker ${previous.trim()}`);
    const kind = (marker?.[1] ?? 'program') as Snippet['kind'];
    const snippet: Snippet = { where, language, code, kind };
    if (kind === 'server') {
      const attributes = marker?.[2] ?? '';
      const path = /path=(\S+)/.exec(attributes)?.[1];
      if (!path) throw new Error(`${where}: a server snippet needs path=/the/route`);
      snippet.path = path;
      const body = /body=(.*)$/.exec(attributes.trim())?.[1];
      try {
        snippet.body = body === undefined ? {} : JSON.parse(body);
      } catch {
        throw new Error(`${where}: body=… must be JSON, got ${body}`);
      }
    }
    snippets.push(snippet);
  }
  return snippets;
}
