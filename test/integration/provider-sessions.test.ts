/**
 * A provider records a session: a date before its allocation was offered (a mistyped year) is a 400
 * naming the date and the offer's date, and changes nothing; the offer's own day is fine. Over real
 * HTTP on the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(onTheDay.json.contacts).toEqual([{ date: offeredOn, kind: 'attended' }]);
  });
});
