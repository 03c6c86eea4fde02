/**
 * A provider records a session: a date before its allocation was offered (a mistyped year) is a 400
 * naming the date and the offer's date, and changes nothing; the offer's own day is fine. Once the
 * plan has exited, ending the allocation is a 409 saying the allocation has ended, when, and that there
 * is nothing left to end, not the plan's stage; a session dated after it ended is a 400 naming the date
 * (one held before may be recorded late: late-session.test.ts). Over real HTTP on the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { londonDateTimeWords, londonDayWords } from '../../lib/domain/calendar.ts';
import { planInStage, scanTable, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

describe('recording a session', () => {
  it('refuses a date before the allocation was offered, naming the date', async () => {
    const plan = await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'high', priority: true }]);
    const offer = (plan.allocations as Json[]).find((a) => a.providerId === 'bcwa');
    const token = t.provider('bcwa');
    expect((await t.call('POST', `/allocations/${offer.allocationId}/accept`, { token, body: {} })).status).toBe(200);
    const offeredOn = t.clock.today();
    t.clock.advanceDays(3);

    const before = await scanTable(t.stack);
    const refused = await t.call('POST', `/allocations/${offer.allocationId}/record-contact`, { token, body: { date: '2020-11-28', kind: 'attended' } });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.json.errors).toEqual([{ path: 'date', message: `must not be before the allocation was offered (${offeredOn})` }]);
    expect(await scanTable(t.stack)).toEqual(before);

    const onTheDay = await t.call('POST', `/allocations/${offer.allocationId}/record-contact`, { token, body: { date: offeredOn, kind: 'attended' } });
    expect(onTheDay.status, onTheDay.text).toBe(200);
    expect(onTheDay.json.contacts).toEqual([{ session: 1, date: offeredOn, kind: 'attended' }]);
  });

  it('after the plan exits: the allocation has ended, when; a session after its end is refused and it cannot be ended again, in plain words, changing nothing', async () => {
    const plan = await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'high', priority: true }]);
    const offer = (plan.allocations as Json[]).find((a) => a.providerId === 'bcwa');
    const token = t.provider('bcwa');
    expect((await t.call('POST', `/allocations/${offer.allocationId}/accept`, { token, body: {} })).status).toBe(200);
    const exited = await t.call('POST', `/plans/${plan.planId}/exit`, { token: t.coordinator, body: { reason: 'custody' } });
    expect(exited.status, exited.text).toBe(200);
    const endedAt = (exited.json.allocations as Json[]).find((a) => a.allocationId === offer.allocationId).endedAt as string;
    t.clock.advanceDays(1);

    const before = await scanTable(t.stack);
    const ended = `Allocation ${offer.allocationId} ended on ${londonDateTimeWords(endedAt)}, when her plan ended`;
    // A session held before it ended may still be recorded late (late-session.test.ts); one after it, never.
    const session = await t.call('POST', `/allocations/${offer.allocationId}/record-contact`, { token, body: { date: t.clock.today(), kind: 'attended' } });
    expect(session.status, session.text).toBe(400);
    expect(session.json.errors).toEqual([{ path: 'date', message: `must be on or before ${londonDayWords(endedAt)}: allocation ${offer.allocationId} ended that day, and a session after it was not part of it` }]);
    const end = await t.call('POST', `/allocations/${offer.allocationId}/end`, { token, body: { outcome: 'completed' } });
    expect(end.status, end.text).toBe(409);
    // Nothing left to end, but not 'nothing more can be recorded': its sessions may still be corrected for 28 days.
    expect(end.json.detail).toBe(`${ended}: there is nothing left to end.`);
    // Why the plan exited (custody: offence information) is not the provider's to know.
    expect(`${session.text} ${end.text}`).not.toMatch(/custody|exited/);
    expect(await scanTable(t.stack)).toEqual(before);

    // Another provider learns nothing of this allocation from the refusal.
    const other = await t.call('POST', `/allocations/${offer.allocationId}/record-contact`, { token: t.provider('anawim'), body: { date: t.clock.today(), kind: 'attended' } });
    expect(other.text).not.toContain('ended on');
  });
});
