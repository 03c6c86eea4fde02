/**
 * An erasure request on a plan that has exited and still has her 6- and 12-month follow-ups to come.
 * A follow-up asks whether she reoffended, which is looked up by who she is: erased, the plan used to
 * go on reminding (follow-up.due.v1 182 days later) and listing a nameless plan on the worklist. Now
 * the request is refused (409, saying what to do), changing nothing; once her consent is withdrawn the
 * follow-ups are cancelled (counted as not known, in no figure), the plan closes, and the erasure goes
 * ahead; nothing is reminded or listed for her afterwards. Over real HTTP on the simulated clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, referralBody, scanTable, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;
let planId: string;

beforeAll(async () => {
  s = await startSecurityStack();
  const referred = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
  planId = referred.json.planId;
  const consent = { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' };
  expect((await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent })).status).toBe(200);
  const exited = await s.call('POST', `/plans/${planId}/exit`, { token: s.coordinator, body: { reason: 'completed' } });
  expect(exited.json.stage).toBe('exited');
});
afterAll(async () => {
  await s?.stop();
});

const history = async () => (await s.call('GET', `/plans/${planId}/history`, { token: s.coordinator })).json.items as { type: string; data: Record<string, unknown> }[];
const erase = () => s.call('POST', `/plans/${planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });

describe('erasing her identity while her follow-ups are still to come', () => {
  it('is refused with a 409 that says to record them or record her consent withdrawn, and changes nothing', async () => {
    const before = await scanTable(s.stack, { withAudit: true });
    const res = await erase();
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toBe(
      'Her identity cannot be erased while a plan of hers is open or waiting for its follow-ups. This plan is waiting for its follow-ups: record them, or, if she asked to be forgotten, record her consent withdrawn (which cancels them and closes the plan) first, then ask again.',
    );
    expect(res.json.errors).toEqual([{ path: 'planId', message: expect.stringContaining(`plan ${planId} is waiting for its follow-ups`) }]);
    const after = await scanTable(s.stack, { withAudit: true });
    expect(after).toEqual(before);
    expect((await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json.participant).toBeDefined();
  });

  it('goes ahead once her consent is withdrawn: the follow-ups are cancelled, the plan closed', async () => {
    const withdrawn = await s.call('POST', `/plans/${planId}/withdraw-consent`, { token: s.coordinator, body: {} });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(withdrawn.json.stage).toBe('closed');
    expect((await history()).find((e) => e.type === 'plan.follow-ups-cancelled.v1')?.data).toMatchObject({ months: [6, 12], reason: 'consent-withdrawn' });
    const res = await erase();
    expect(res.status, res.text).toBe(200);
    const plan = (await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json;
    expect(plan.identityErasedAt).toBeDefined();
    expect(plan.participant).toBeUndefined();
  });

  it('reminds nobody and lists nothing for her 6 months on', async () => {
    await s.advance(190 * DAY_MS, DAY_MS);
    expect((await history()).filter((e) => e.type === 'follow-up.due.v1')).toEqual([]);
    for (const due of ['overdue', 'today', 'this-week']) {
      const list = await s.call('GET', `/plans?due=${due}&limit=100`, { token: s.coordinator });
      expect(list.status).toBe(200);
      expect((list.json.items as { planId: string }[]).map((p) => p.planId), due).not.toContain(planId);
    }
  });
});
