// The reader runs in browsers: its sources (and the part of @ss/core it imports) must not touch
// Node built-ins or Buffer, and may import only socket.io-client, eventsource-parser and @ss/core/protocol (never the
// @ss/core root, which pulls in jose and the producer).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const clientSrc = new URL('../src/', import.meta.url).pathname;
const coreSrc = new URL('../../core/src/', import.meta.url).pathname;

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((match) => match[1] as string);
}

describe('browser safety', () => {
  const files = [...sourceFiles(clientSrc), join(coreSrc, 'protocol.ts'), join(coreSrc, 'errors.ts')];

  it('imports only socket.io-client, eventsource-parser, @ss/core/protocol and relative modules', () => {
    const all = files.flatMap(imports);
    expect(all).toContain('socket.io-client');
    expect(all).toContain('eventsource-parser');
    expect(all).toContain('@ss/core/protocol');
    expect(all).toContain('./errors.js');
    for (const file of files) {
      for (const specifier of imports(file)) {
        expect([file, specifier.startsWith('.') || specifier === 'socket.io-client' || specifier === 'eventsource-parser' || specifier === '@ss/core/protocol']).toEqual([file, true]);
      }
    }
  });

  it('uses no Node-only globals', () => {
    for (const file of files) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([file, /\bBuffer\b|\brequire\(|__dirname|node:/.test(code)]).toEqual([file, false]);
    }
  });
});
