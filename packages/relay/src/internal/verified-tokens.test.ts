import { mintClientToken } from '@ss/core';
import { describe, expect, it } from 'vitest';
import { oneSecondToken } from '../../test/support/short-lived-token.js';
import { VerifiedTokens } from './verified-tokens.js';

const apiKey = 'verified-tokens-test-key';

describe('VerifiedTokens', () => {
  it('verifies a token once and hands the same claims to later connections', async () => {
    const tokens = new VerifiedTokens([apiKey], 0);
    const token = await mintClientToken({ apiKey, streamIds: ['a'], expiresIn: '1h' });
    const [first, concurrent] = await Promise.all([tokens.verify(token), tokens.verify(token)]);
    expect(first.streamIds).toEqual(['a']);
    expect(concurrent).toBe(first);
    expect(await tokens.verify(token)).toBe(first);
  });

  it('refuses a remembered token once it has expired', async () => {
    const tokens = new VerifiedTokens([apiKey], 0);
    const { token, expired } = await oneSecondToken({ apiKey, streamIds: ['a'] });
    await tokens.verify(token);
    await expired();
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('never remembers a refusal, and refuses tokens of keys it does not hold', async () => {
    const tokens = new VerifiedTokens([apiKey], 0);
    const foreign = await mintClientToken({ apiKey: 'another-key', streamIds: ['a'], expiresIn: '1h' });
    await expect(tokens.verify(foreign)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(tokens.verify(foreign)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(tokens.verify(`${foreign.slice(0, -2)}xx`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
