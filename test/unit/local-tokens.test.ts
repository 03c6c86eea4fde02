/**
 * The embedded stack's tokens: a verified token's claims are remembered, so a client's next request
 * with the same token skips the signature check, but every time rule is checked again on each use and
 * only that exact token text is ever found.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalTokens } from '../../lib/local/tokens.ts';

const secret = new TextEncoder().encode('a test secret of thirty-two bytes!!');
const START = new Date('2026-11-28T10:00:00.000Z');

afterEach(() => {
  vi.useRealTimers();
});

describe('LocalTokens.verify, remembering verified tokens', () => {
  it('accepts a token again while it is valid, and refuses it once it has expired', async () => {
    vi.useFakeTimers({ now: START, toFake: ['Date'] });
    const tokens = new LocalTokens(secret);
    const token = await tokens.issue({ role: 'coordinator', ttlSeconds: 60 });
    expect(await tokens.verify(token)).toMatchObject({ sub: 'demo-coordinator' });
    vi.setSystemTime(new Date(START.getTime() + 59_000));
    expect(await tokens.verify(token)).toMatchObject({ sub: 'demo-coordinator' });
    vi.setSystemTime(new Date(START.getTime() + 60_000));
    expect(await tokens.verify(token)).toBeUndefined();
  });

  it('refuses a token more than a day old whatever expiry it claims, though it was accepted before', async () => {
    vi.useFakeTimers({ now: START, toFake: ['Date'] });
    const tokens = new LocalTokens(secret);
    const token = await tokens.issue({ role: 'team-lead', ttlSeconds: 3 * 24 * 3600 });
    expect(await tokens.verify(token)).toBeDefined();
    vi.setSystemTime(new Date(START.getTime() + 24 * 3600_000 + 1000));
    expect(await tokens.verify(token)).toBeUndefined();
  });

  it('refuses the claims of a remembered token under another signature', async () => {
    const tokens = new LocalTokens(secret);
    const token = await tokens.issue({ role: 'provider', providerId: 'bcwa' });
    expect(await tokens.verify(token)).toMatchObject({ 'custom:providerId': 'bcwa' });
    const [header, payload] = token.split('.');
    const forged = await new LocalTokens(new TextEncoder().encode('another secret, thirty-two bytes!!')).issue({ role: 'provider', providerId: 'bcwa' });
    expect(await tokens.verify(`${header}.${payload}.${forged.split('.')[2]}`)).toBeUndefined();
    expect(await tokens.verify(`${token}x`)).toBeUndefined();
  });

  it('hands out claims no request can change for the next', async () => {
    const tokens = new LocalTokens(secret);
    const token = await tokens.issue({ role: 'coordinator' });
    const first = (await tokens.verify(token)) as Record<string, unknown>;
    expect(() => (first.sub = 'someone-else')).toThrow(TypeError);
    expect(() => (first['cognito:groups'] as string[]).push('team-leads')).toThrow(TypeError);
    expect(await tokens.verify(token)).toMatchObject({ sub: 'demo-coordinator', 'cognito:groups': ['coordinators'] });
  });
});
