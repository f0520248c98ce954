import { StreamstraightError } from '@ss/core/protocol';
import { describe, expect, it } from 'vitest';
import { streamIdOfPath, streamIdOfReference } from './stream-paths.js';

describe('Durable Streams paths', () => {
  it('names relay streams: slashes become colons', () => {
    expect(streamIdOfPath('/chat-42')).toBe('chat-42');
    expect(streamIdOfPath('/v1/stream/orders')).toBe('v1:stream:orders');
    expect(streamIdOfPath('/v1%3Astream%3Aorders')).toBe('v1:stream:orders');
  });

  it('refuses empty segments and characters stream ids do not allow, with INVALID_STREAM_ID', () => {
    for (const bad of ['/', '/a//b', '/a/', '/has space', '/%E0%A4%A', '/a?b']) {
      const error = (() => {
        try {
          streamIdOfPath(bad);
        } catch (caught) {
          return caught;
        }
      })();
      expect(StreamstraightError.isInstance(error) && error.code, bad).toBe('INVALID_STREAM_ID');
    }
  });

  it('reads Stream-Forked-From relative to the stream root or with the prefix', () => {
    expect(streamIdOfReference('/v1/stream/a', '/ds')).toBe('v1:stream:a');
    expect(streamIdOfReference('/ds/v1/stream/a', '/ds')).toBe('v1:stream:a');
  });
});
