/**
 * A session recorded twice (the same POST record-contact sent again without an Idempotency-Key) is
 * withdrawn by its provider over real HTTP: the allocation then shows it withdrawn under its number,
 * and the plan's history has contact.corrected.v1. A bad correction is a 400 naming the field and
 * changes nothing; another provider's is answered as for an unknown allocation; a coordinator cannot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_CORRECTION_DAYS } from '../../lib/domain/session-correction.ts';
import { planInStage, scanTable, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

describe('POST /allocations/{allocationId}/correct-contact', () => {
  it('withdraws the second of two identical sessions; a bad or foreign correction changes nothing', async () => {
    const plan = await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'high', priority: true }]);
    const offer = (plan.allocations as Json[]).find((a) => a.providerId === 'bcwa');
    const path = `/allocations/${offer.allocationId}`;
    const token = t.provider('bcwa');
    expect((await t.call('POST', `${path}/accept`, { token, body: {} })).status).toBe(200);
    const session = { date: t.clock.today(), kind: 'attended' };
    for (let i = 0; i < 2; i++) expect((await t.call('POST', `${path}/record-contact`, { token, body: session })).status).toBe(200);

    const before = await scanTable(t.stack);
    const both = await t.call('POST', `${path}/correct-contact`, { token, body: { session: 2, withdrawn: true, kind: 'missed', reason: 'recorded-twice' } });
    expect(both.status, both.text).toBe(400);
    expect(both.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(both.json.errors).toEqual([{ path: 'kind', message: 'must be left out when the session is withdrawn' }]);
    const unknown = await t.call('POST', `${path}/correct-contact`, { token, body: { session: 3, withdrawn: true, reason: 'recorded-twice' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors[0].path).toBe('session');
    expect((await t.call('POST', `${path}/correct-contact`, { token: t.provider('anawim'), body: { session: 2, withdrawn: true, reason: 'recorded-twice' } })).status).toBe(404);
    expect((await t.call('POST', `${path}/correct-contact`, { token: t.coordinator, body: { session: 2, withdrawn: true, reason: 'recorded-twice' } })).status).toBe(403);
    expect(await scanTable(t.stack)).toEqual(before);

    const withdrawn = await t.call('POST', `${path}/correct-contact`, { token, body: { session: 2, withdrawn: true, reason: 'recorded-twice' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(withdrawn.json.contacts).toEqual([
      { session: 1, ...session },
      { session: 2, ...session, withdrawnAt: expect.any(String), corrected: true },
    ]);
    const history = await t.call('GET', `/plans/${plan.planId as string}/history`, { token: t.coordinator });
    const corrected = (history.json.items as Json[]).filter((e) => e.type === 'contact.corrected.v1');
    expect(corrected.map((e) => e.data)).toEqual([expect.objectContaining({ session: 2, withdrawn: true, reason: 'recorded-twice' })]);
  });

  it(`corrects the last session after the plan exited, for ${SESSION_CORRECTION_DAYS} days after the allocation ended; then a 409 in words that changes nothing`, async () => {
    const plan = await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'high', priority: true }]);
    const offer = (plan.allocations as Json[]).find((a) => a.providerId === 'bcwa');
    const path = `/allocations/${offer.allocationId}`;
    const token = t.provider('bcwa');
    expect((await t.call('POST', `${path}/accept`, { token, body: {} })).status).toBe(200);
    const day = t.clock.today();
    for (let i = 0; i < 3; i++) expect((await t.call('POST', `${path}/record-contact`, { token, body: { date: day, kind: 'attended' } })).status).toBe(200);
    const exited = await t.call('POST', `/plans/${plan.planId as string}/exit`, { token: t.coordinator, body: { reason: 'completed' } });
    expect(exited.status, exited.text).toBe(200);
    expect(exited.json.stage).toBe('exited');

    // Three weeks on, the practitioner finds the last session keyed as attended: she missed it.
    t.clock.advanceDays(21);
    const fixed = await t.call('POST', `${path}/correct-contact`, { token, body: { session: 3, kind: 'missed', reason: 'wrong-kind' } });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.json.contacts.at(-1)).toMatchObject({ session: 3, date: day, kind: 'missed', corrected: true });
    const readBack = await t.call('GET', `/plans/${plan.planId as string}`, { token: t.coordinator });
    expect(readBack.json.stage).toBe('exited');

    // Past the bound: refused, saying until when it could be corrected and whom to ask.
    t.clock.advanceDays(SESSION_CORRECTION_DAYS - 21 + 1);
    const before = await scanTable(t.stack);
    const late = await t.call('POST', `${path}/correct-contact`, { token, body: { session: 2, withdrawn: true, reason: 'recorded-twice' } });
    expect(late.status, late.text).toBe(409);
    expect(late.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(late.json.detail).toMatch(new RegExp(`^Allocation ${offer.allocationId as string} ended on .+: its sessions could be corrected for ${SESSION_CORRECTION_DAYS} days after it ended, until .+, and no longer; ask her coordinator to note the correction on the plan\\.$`));
    expect(await scanTable(t.stack)).toEqual(before);
  });
});
