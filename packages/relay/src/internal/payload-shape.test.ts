import { describe, expect, it } from 'vitest';
import { payloadShapeProblem } from './payload-shape.js';

const limits = { maxDepth: 8, maxEntries: 1024 };

function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) value = [value];
  return value;
}

function nestedObjects(depth: number): unknown {
  let value: unknown = {};
  for (let level = 1; level < depth; level++) value = { a: value };
  return value;
}

describe('payloadShapeProblem', () => {
  it('accepts every payload of the protocol', () => {
    const frames = Array.from({ length: 1024 }, (_, index) => ({ streamId: `s${index}`, seq: 0, data: Array.from({ length: 1024 }, () => '"x"') }));
    expect(payloadShapeProblem({ frames }, limits)).toBeUndefined();
    expect(payloadShapeProblem({ role: 'consumer', token: 't', subscribe: { streamId: 'a', fromSeq: 3 } }, limits)).toBeUndefined();
    expect(payloadShapeProblem('a string', limits)).toBeUndefined();
    expect(payloadShapeProblem(nestedArrays(8), limits)).toBeUndefined();
    expect(payloadShapeProblem([() => {}, null, 1], limits)).toBeUndefined();
  });

  it('finds a nesting 100,000 levels deep without overflowing the stack', () => {
    expect(payloadShapeProblem(nestedArrays(100_000), limits)).toEqual({ limit: 'maxPayloadDepth', message: 'nested deeper than 8 levels' });
    expect(payloadShapeProblem(nestedObjects(100_000), limits)?.limit).toBe('maxPayloadDepth');
    expect(payloadShapeProblem(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), limits)?.limit).toBe('maxPayloadDepth');
  });

  it('refuses arrays and objects with too many entries', () => {
    expect(payloadShapeProblem({ data: new Array(1025).fill('x') }, limits)).toEqual({ limit: 'maxPayloadEntries', message: 'an array of 1025 entries (at most 1024)' });
    expect(payloadShapeProblem(Object.fromEntries(Array.from({ length: 1025 }, (_, index) => [`k${index}`, 1])), limits)?.message).toBe('an object with more than 1024 keys');
  });
});
