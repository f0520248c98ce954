import { StreamstraightError } from '@ss/core/protocol';
import { describe, expect, it } from 'vitest';
import { bodyToChunks, chunkPrefix, chunksToBody, encodingOf, mediaType } from './content-types.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('Durable Streams content types', () => {
  it('picks the chunk encoding from the media type, ignoring case and parameters', () => {
    expect(mediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(encodingOf('application/json; charset=utf-8')).toBe('json');
    expect(encodingOf('TEXT/plain')).toBe('text');
    expect(encodingOf('application/octet-stream')).toBe('base64');
    expect(encodingOf('application/x-protobuf')).toBe('base64');
  });

  it('JSON: one chunk per message, an array flattened one level; an empty array only on create', () => {
    expect(bodyToChunks(bytes('{"a": 1}'), 'json', false)).toEqual(['{"a":1}']);
    expect(bodyToChunks(bytes('[{"a":1}, [2, 3], "x"]'), 'json', false)).toEqual(['{"a":1}', '[2,3]', '"x"']);
    expect(bodyToChunks(bytes('[]'), 'json', true)).toEqual([]);
    expect(() => bodyToChunks(bytes('[]'), 'json', false)).toThrow(StreamstraightError);
    expect(() => bodyToChunks(bytes('{nope'), 'json', false)).toThrow(/not valid JSON/);
    expect(chunksToBody(['{"a":1}', '[2,3]'], 'json').toString()).toBe('[{"a":1},[2,3]]');
    expect(chunksToBody([], 'json').toString()).toBe('[]');
  });

  it('binary bodies round-trip byte for byte; text must be UTF-8', () => {
    const binary = new Uint8Array([0, 1, 127, 128, 254, 255]);
    const chunks = bodyToChunks(binary, 'base64', false);
    expect(new Uint8Array(chunksToBody(chunks, 'base64'))).toEqual(binary);
    expect(chunksToBody(bodyToChunks(bytes('héllo\n'), 'text', false), 'text').toString()).toBe('héllo\n');
    expect(() => bodyToChunks(new Uint8Array([0xff, 0xfe]), 'text', false)).toThrow(/not valid UTF-8/);
  });

  it('a chunk written by a Socket.IO producer that is not JSON reads as a JSON string', () => {
    expect(JSON.parse(chunksToBody(['{"t":"hi"}', 'plain words'], 'json', true).toString())).toEqual([{ t: 'hi' }, 'plain words']);
  });

  it('cuts a chunk at a byte count for fork sub-offsets', () => {
    expect(chunkPrefix('hello', 'text', 3)).toBe('hel');
    expect(chunkPrefix('hello', 'text', 5)).toBe('hello');
    expect(chunkPrefix('hello', 'text', 6)).toBeUndefined();
    expect(chunkPrefix(Buffer.from([1, 2, 3]).toString('base64'), 'base64', 2)).toBe(Buffer.from([1, 2]).toString('base64'));
  });
});
