// resumable-stream's documented behaviour (its README, its type docs, its runtime), one case at a
// time. Every case runs against both implementations; where they differ on purpose, the case
// asserts each side's behaviour (`harness.name`) and the difference is listed in the README.
import { expect } from 'vitest';
import { collect, controlledSource, uniqueId, until } from './streams.js';
import type { Harness } from './subjects.js';

export interface CompatCase {
  name: string;
  run(harness: Harness): Promise<void>;
}

const isDone = (harness: Harness, id: string) => async () => (await harness.context.hasExistingStream(id)) === 'DONE';

export const resumableStreamCases: CompatCase[] = [
  {
    name: 'createNewResumableStream: the returned stream carries every chunk of makeStream, in order, then closes',
    async run({ context }) {
      const id = uniqueId('new');
      const source = controlledSource();
      const stream = await context.createNewResumableStream(id, source.makeStream);
      expect(stream).not.toBeNull();
      const first = collect(stream as ReadableStream<string>);
      for (const chunk of ['data: a\n\n', 'data: b\n\n', 'data: c\n\n']) source.push(chunk);
      source.end();
      expect(await first.done).toEqual({ text: 'data: a\n\ndata: b\n\ndata: c\n\n', error: undefined });
      expect(source.calls).toBe(1);
    },
  },
  {
    name: 'hasExistingStream: null for an unknown id, true once createNewResumableStream resolved, DONE after the end',
    async run(harness) {
      const { context } = harness;
      const id = uniqueId('has');
      expect(await context.hasExistingStream(id)).toBeNull();
      const source = controlledSource();
      await context.createNewResumableStream(id, source.makeStream);
      expect(await context.hasExistingStream(id)).toBe(true);
      source.push('x');
      expect(await context.hasExistingStream(id)).toBe(true);
      source.end();
      await until(isDone(harness, id), 'DONE');
    },
  },
  {
    name: 'resumeExistingStream: undefined for an id that never existed',
    async run({ context }) {
      expect(await context.resumeExistingStream(uniqueId('never'))).toBeUndefined();
    },
  },
  {
    name: 'resumeExistingStream mid-way: everything produced so far, then the live chunks, then it closes with the producer',
    async run({ context }) {
      const id = uniqueId('mid');
      const source = controlledSource();
      const first = collect((await context.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('one ');
      source.push('two ');
      await until(() => first.text === 'one two ', 'the first two chunks');
      const resumed = collect((await context.resumeExistingStream(id)) as ReadableStream<string>);
      await until(() => resumed.text === 'one two ', 'the resumer to catch up');
      source.push('three ');
      source.push('four');
      source.end();
      expect(await resumed.done).toEqual({ text: 'one two three four', error: undefined });
      expect((await first.done).text).toBe('one two three four');
    },
  },
  {
    name: 'resumeExistingStream with skipCharacters: the text from that character on (within what was produced)',
    async run({ context }) {
      const id = uniqueId('skip');
      const source = controlledSource();
      const first = collect((await context.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('abc');
      source.push('defg');
      await until(() => first.text === 'abcdefg', 'the first chunks');
      const resumed = collect((await context.resumeExistingStream(id, 5)) as ReadableStream<string>);
      await until(() => resumed.text === 'fg', 'the resumer to catch up');
      source.push('hij');
      source.end();
      expect(await resumed.done).toEqual({ text: 'fghij', error: undefined });
    },
  },
  {
    name: 'resumeExistingStream after the producer finished: null (the recipe relies on it)',
    async run(harness) {
      const { context } = harness;
      const id = uniqueId('done');
      const source = controlledSource();
      await context.createNewResumableStream(id, source.makeStream);
      source.push('all of it');
      source.end();
      await until(isDone(harness, id), 'DONE');
      expect(await context.resumeExistingStream(id)).toBeNull();
      expect(await context.resumeExistingStream(id, 3)).toBeNull();
    },
  },
  {
    name: 'resumableStream: the first call creates (makeStream runs once), a second call with the same id resumes, after the end null',
    async run(harness) {
      const { context } = harness;
      const id = uniqueId('idem');
      const source = controlledSource();
      const first = collect((await context.resumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('hello ');
      await until(() => first.text === 'hello ', 'the first chunk');
      const other = controlledSource();
      const second = await context.resumableStream(id, other.makeStream);
      expect(second).not.toBeNull();
      const resumed = collect(second as ReadableStream<string>);
      source.push('world');
      source.end();
      expect(await resumed.done).toEqual({ text: 'hello world', error: undefined });
      expect(await first.done).toEqual({ text: 'hello world', error: undefined });
      expect(source.calls).toBe(1);
      expect(other.calls).toBe(0);
      await until(isDone(harness, id), 'DONE');
      const third = controlledSource();
      expect(await context.resumableStream(id, third.makeStream)).toBeNull();
      expect(third.calls).toBe(0);
    },
  },
  {
    name: 'resumableStream called twice at the same instant with a new id: makeStream runs once, both callers get the whole text',
    async run({ context }) {
      const id = uniqueId('race');
      const sources = [controlledSource(), controlledSource()];
      const streams = await Promise.all(sources.map((source) => context.resumableStream(id, source.makeStream)));
      const readers = streams.map((stream) => collect(stream as ReadableStream<string>));
      const producer = sources.find((source) => source.calls === 1);
      expect(sources.map((source) => source.calls).sort()).toEqual([0, 1]);
      producer?.push('only ');
      producer?.push('once');
      producer?.end();
      for (const reader of readers) expect(await reader.done).toEqual({ text: 'only once', error: undefined });
    },
  },
  {
    name: 'resumableStream with skipCharacters resumes from that character',
    async run({ context }) {
      const id = uniqueId('idem-skip');
      const source = controlledSource();
      const first = collect((await context.resumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('0123456789');
      await until(() => first.text === '0123456789', 'the first chunk');
      const resumed = collect((await context.resumableStream(id, controlledSource().makeStream, 4)) as ReadableStream<string>);
      await until(() => resumed.text === '456789', 'the resumer to catch up');
      source.push('abc');
      source.end();
      expect(await resumed.done).toEqual({ text: '456789abc', error: undefined });
    },
  },
  {
    name: 'createNewResumableStream ignores skipCharacters: its own copy is always whole',
    async run({ context }) {
      const id = uniqueId('new-skip');
      const source = controlledSource();
      const first = collect((await context.createNewResumableStream(id, source.makeStream, 3)) as ReadableStream<string>);
      source.push('abcdef');
      source.end();
      expect(await first.done).toEqual({ text: 'abcdef', error: undefined });
    },
  },
  {
    name: 'the producer finishes while nobody reads anything (the AI SDK drops the stream consumeSseStream returns); waitUntil got a promise that settles',
    async run(harness) {
      const { context } = harness;
      const id = uniqueId('unread');
      const source = controlledSource();
      await context.createNewResumableStream(id, source.makeStream); // never read
      expect(harness.kept.length).toBeGreaterThan(0);
      for (let index = 0; index < 50; index++) source.push(`chunk ${index}\n`);
      source.end();
      await until(isDone(harness, id), 'DONE');
      await Promise.all(harness.kept);
      expect(await context.resumeExistingStream(id)).toBeNull();
    },
  },
  {
    name: 'the first reader goes away early: the producer still reads makeStream to the end and a resumer gets all of it',
    async run(harness) {
      const { context } = harness;
      const id = uniqueId('gone');
      const source = controlledSource();
      const first = collect((await context.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('before ');
      await until(() => first.text === 'before ', 'the first chunk');
      await first.cancel();
      const resumed = collect((await context.resumeExistingStream(id)) as ReadableStream<string>);
      await until(() => resumed.text === 'before ', 'the resumer to catch up');
      source.push('after');
      source.end();
      expect(await resumed.done).toEqual({ text: 'before after', error: undefined });
      await until(isDone(harness, id), 'DONE');
    },
  },
  {
    name: 'several resumers at once each get the whole text; one that cancels leaves the others and the producer alone',
    async run({ context }) {
      const id = uniqueId('many');
      const source = controlledSource();
      await context.createNewResumableStream(id, source.makeStream);
      source.push('a');
      const readers = await Promise.all([1, 2, 3].map(async () => collect((await context.resumeExistingStream(id)) as ReadableStream<string>)));
      await until(() => readers.every((reader) => reader.text === 'a'), 'every resumer to catch up');
      await readers[0]?.cancel();
      source.push('b');
      source.push('c');
      source.end();
      for (const reader of readers.slice(1)) expect(await reader.done).toEqual({ text: 'abc', error: undefined });
    },
  },
  {
    name: 'a resumer of a stream with no chunk yet waits for the first one',
    async run({ context }) {
      const id = uniqueId('empty');
      const source = controlledSource();
      await context.createNewResumableStream(id, source.makeStream);
      const resumed = collect((await context.resumeExistingStream(id)) as ReadableStream<string>);
      source.push('first');
      source.end();
      expect(await resumed.done).toEqual({ text: 'first', error: undefined });
    },
  },
  {
    name: 'a stream of many small chunks arrives whole and in order at a late resumer',
    async run({ context }) {
      const id = uniqueId('bulk');
      const source = controlledSource();
      const expected: string[] = [];
      await context.createNewResumableStream(id, source.makeStream);
      for (let index = 0; index < 500; index++) {
        const chunk = `data: {"type":"text-delta","delta":"token ${index} é 🚀"}\n\n`;
        expected.push(chunk);
        source.push(chunk);
      }
      const resumed = collect((await context.resumeExistingStream(id)) as ReadableStream<string>);
      for (let index = 500; index < 1000; index++) {
        const chunk = `data: {"type":"text-delta","delta":"token ${index}"}\n\n`;
        expected.push(chunk);
        source.push(chunk);
      }
      source.end();
      expect(await resumed.done).toEqual({ text: expected.join(''), error: undefined });
    },
  },
  {
    name: 'difference: skipCharacters beyond what was produced so far',
    async run({ name, context }) {
      const id = uniqueId('skip-far');
      const source = controlledSource();
      const first = collect((await context.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('abc');
      await until(() => first.text === 'abc', 'the first chunk');
      const resumed = collect((await context.resumeExistingStream(id, 5)) as ReadableStream<string>);
      if (name === 'resumable-stream') {
        // Its producer slices only what it had buffered ('abc'.slice(5) is ''): the next chunks come whole.
        await new Promise((resolve) => setTimeout(resolve, 100)); // let its request reach the producer before the next chunk
      }
      source.push('defgh');
      source.end();
      const { text } = await resumed.done;
      if (name === 'resumable-stream') expect(text).toBe('defgh');
      else expect(text).toBe('fgh'); // ours skips 5 characters of the stream, wherever they fall
    },
  },
];
