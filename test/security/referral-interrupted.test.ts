/**
 * A referral that died without giving up its claim on her person record (its plan never written, and
 * the release failing too, as when the process stops): another referral of her is refused for six
 * minutes, since a referral that long may still be running on AWS. What the coordinator is told then,
 * over real HTTP on the embedded stack (dynalite): that a referral of her is in progress or was
 * interrupted, that sending it again with the same Idempotency-Key is safe (and goes ahead at once),
 * and when a new referral will be possible (Retry-After in seconds, the time in the detail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { londonDateTimeWords } from '../../lib/domain/calendar.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { injectFaults, referralBody, scanTable, secretParticipant, startSecurityStack, type FaultInjector, type SecurityStack } from './support.ts';

let s: SecurityStack;
let faults: FaultInjector;

beforeAll(async () => {
  s = await startSecurityStack();
  faults = injectFaults(s.stack);
});
afterAll(async () => {
  await s?.stop();
});

const refer = (participant: Participant, key?: string) => s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant), ...(key ? { headers: { 'idempotency-key': key } } : {}) });

const pkOf = (input: Record<string, unknown>) => String((input.Item as { pk?: unknown } | undefined)?.pk ?? (input.Key as { pk?: unknown } | undefined)?.pk ?? '');
/** The referral's plan write fails, and so does the release of its claim: it dies holding her person record. */
const diesHoldingClaim = (name: string, input: Record<string, unknown>) =>
  (name.startsWith('Put') && pkOf(input).startsWith('PLAN#')) || (name.startsWith('Update') && pkOf(input).startsWith('PERSON#') && input.UpdateExpression === 'REMOVE claim');

/** A referral of a new woman sent with `key` that dies holding its claim; when it claimed her. */
async function interruptedReferral(participant: Participant, key: string): Promise<string> {
  faults.set(diesHoldingClaim);
  const claimedAt = s.now();
  const died = await refer(participant, key);
  faults.clear();
  expect(died.status, died.text).toBeGreaterThanOrEqual(500);
  return claimedAt;
}

describe('a referral of her that died holding its claim on her person record', () => {
  it('refuses another referral of her with a 409 that says what happened, that a retry with the same Idempotency-Key is safe, and when a new referral is possible; nothing is changed', async () => {
    const participant = secretParticipant();
    const claimedAt = await interruptedReferral(participant, 'interrupted-referral-1');

    const before = await scanTable(s.stack);
    const res = await refer(participant, 'another-referral-1');
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    // Six minutes after the claim, and no clock time passed since it.
    expect(res.headers.get('retry-after')).toBe('360');
    // Its minute rounded up, so a referral sent then is never early.
    const possibleAt = londonDateTimeWords(new Date(Math.ceil((Date.parse(claimedAt) + 6 * 60_000) / 60_000) * 60_000).toISOString());
    expect(res.json.detail).toContain('A referral of this person is in progress, or was interrupted before it finished');
    expect(res.json.detail).toContain('sending it again with the same Idempotency-Key is safe');
    expect(res.json.detail).toContain(`A new referral of her will be possible from ${possibleAt} (London time, in 6 minutes)`);
    expect(res.json.errors).toEqual([{ path: 'participant', message: expect.stringContaining(`a new one is possible from ${possibleAt}`) }]);
    expect(res.text).not.toContain(participant.familyName);
    expect(await scanTable(s.stack)).toEqual(before);

    // The interrupted referral sent again with its key goes ahead at once.
    const retried = await refer(participant, 'interrupted-referral-1');
    expect(retried.status, retried.text).toBe(201);
    expect(retried.json.participant).toMatchObject({ familyName: participant.familyName, dateOfBirth: participant.dateOfBirth });
  });

  it('counts down: a minute later Retry-After is a minute shorter, and once the six minutes are over a new referral of her is recorded', async () => {
    const participant = secretParticipant();
    await interruptedReferral(participant, 'interrupted-referral-2');
    await s.advance(60_000);
    const later = await refer(participant);
    expect(later.status, later.text).toBe(409);
    expect(later.headers.get('retry-after')).toBe('300');
    expect(later.json.detail).toContain('(London time, in 5 minutes)');

    await s.advance(300_000);
    const fresh = await refer(participant, 'new-referral-2');
    expect(fresh.status, fresh.text).toBe(201);
  });
});
