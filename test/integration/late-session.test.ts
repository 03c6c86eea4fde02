/**
 * A session held before the allocation ended, recorded late: providers often key sessions in days
 * after they were held. Allowed on an allocation ended with its plan's exit (or by its provider), for a
 * session dated on or before the day it ended, within the days a correction is allowed
 * (session-correction.ts); it then counts as any session does (the plan's contacts, the exit summary).
 * Dated after the end: a 400 naming `date` and the day it ended. Never once her consent to share with
 * the provider was withdrawn, never on a closed plan, never after the bound. Over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { londonDate, londonDayWords } from '../../lib/domain/calendar.ts';
import { SESSION_CORRECTION_DAYS } from '../../lib/domain/session-correction.ts';
import { planInStage, scanTable, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

const token = () => t.provider('bcwa');

/** An active plan whose domestic-abuse need bcwa accepted. */
async function accepted(): Promise<{ planId: string; allocationId: string }> {
  const plan = await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'high', priority: true }]);
  const offer = (plan.allocations as Json[]).find((a) => a.providerId === 'bcwa');
  const accept = await t.call('POST', `/allocations/${offer.allocationId}/accept`, { token: token(), body: {} });
  expect(accept.status, accept.text).toBe(200);
  return { planId: plan.planId as string, allocationId: offer.allocationId as string };
}

async function exit(planId: string, allocationId: string): Promise<string> {
  const exited = await t.call('POST', `/plans/${planId}/exit`, { token: t.coordinator, body: { reason: 'completed' } });
  expect(exited.status, exited.text).toBe(200);
  return (exited.json.allocations as Json[]).find((a) => a.allocationId === allocationId).endedAt as string;
}

const record = (allocationId: string, date: string, kind = 'attended') => t.call('POST', `/allocations/${allocationId}/record-contact`, { token: token(), body: { date, kind } });

describe('recording late a session held before the allocation ended', () => {
  it('after the plan exited: recorded, and counted on the plan as a session is', async () => {
    const { planId, allocationId } = await accepted();
    const heldOn = t.clock.today();
    const endedAt = await exit(planId, allocationId);
    t.clock.advanceDays(5);

    const late = await record(allocationId, heldOn);
    expect(late.status, late.text).toBe(200);
    expect(late.json.contacts).toEqual([{ session: 1, date: heldOn, kind: 'attended' }]);
    const plan = await t.call('GET', `/plans/${planId}`, { token: t.coordinator });
    expect(plan.json.stage).toBe('exited');
    expect(plan.json.contacts).toEqual([expect.objectContaining({ allocationId, date: heldOn, kind: 'attended' })]);
    expect(plan.json.exitSummary.sessions).toEqual({ attended: 1, missed: 0, cancelled: 0 });
    const history = await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator });
    expect((history.json.items as Json[]).filter((e) => e.type === 'contact.recorded.v1').map((e) => e.data)).toEqual([expect.objectContaining({ allocationId, date: heldOn, kind: 'attended' })]);
    // Its last day is the day it ended.
    expect((await record(allocationId, londonDate(endedAt), 'missed')).status).toBe(200);
  });

  it('dated after the day it ended: a 400 naming the date and that day, and nothing changes', async () => {
    const { planId, allocationId } = await accepted();
    const endedAt = await exit(planId, allocationId);
    t.clock.advanceDays(2);
    const before = await scanTable(t.stack);
    const after = await record(allocationId, t.clock.today());
    expect(after.status, after.text).toBe(400);
    expect(after.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(after.json.errors).toEqual([{ path: 'date', message: `must be on or before ${londonDayWords(endedAt)}: allocation ${allocationId} ended that day, and a session after it was not part of it` }]);
    expect(await scanTable(t.stack)).toEqual(before);
  });

  it(`more than ${SESSION_CORRECTION_DAYS} days after it ended: refused in words, nothing changes`, async () => {
    const { planId, allocationId } = await accepted();
    const heldOn = t.clock.today();
    await exit(planId, allocationId);
    t.clock.advanceDays(SESSION_CORRECTION_DAYS + 1);
    const before = await scanTable(t.stack);
    const late = await record(allocationId, heldOn);
    expect(late.status, late.text).toBe(409);
    expect(late.json.detail).toMatch(new RegExp(`^Allocation ${allocationId} ended on .+: a session held before it ended could be recorded for ${SESSION_CORRECTION_DAYS} days after it ended, until .+, and no longer; ask her coordinator to note the session on the plan\\.$`));
    expect(await scanTable(t.stack)).toEqual(before);
  });

  it('not once her consent to share with the provider was withdrawn: the plan open without it, or closed', async () => {
    // Her consent changed to leave bcwa out: its allocation ended so, the plan goes on.
    const narrowed = await accepted();
    const heldOn = t.clock.today();
    const changed = await t.call('POST', `/plans/${narrowed.planId}/change-consent`, {
      token: t.coordinator,
      body: { scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all-except', providerIds: ['bcwa'] } }, givenAt: heldOn, method: 'written' },
    });
    expect(changed.status, changed.text).toBe(200);
    expect((changed.json.allocations as Json[]).find((a) => a.allocationId === narrowed.allocationId)).toMatchObject({ status: 'ended', outcome: 'consent-withdrawn' });
    t.clock.advanceDays(1);
    const before = await scanTable(t.stack);
    const refused = await record(narrowed.allocationId, heldOn);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.detail).toMatch(/when her consent to share with your organisation was withdrawn: no session can be recorded on it \(delete what you hold about her\)\.$/);
    expect(await scanTable(t.stack)).toEqual(before);

    // Her consent withdrawn after the plan exited: the plan closes, and nothing more is recorded about her.
    const exited = await accepted();
    await exit(exited.planId, exited.allocationId);
    const withdrawn = await t.call('POST', `/plans/${exited.planId}/withdraw-consent`, { token: t.coordinator, body: {} });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(withdrawn.json.stage).toBe('closed');
    const closed = await record(exited.allocationId, t.clock.today());
    expect(closed.status, closed.text).toBe(409);
    expect(closed.json.detail).toMatch(/no session can be recorded on it any more\.$/);
  });
});
