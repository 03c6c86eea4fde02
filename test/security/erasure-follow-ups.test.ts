/**
 * An erasure request on a plan that has exited and still has her 6- and 12-month follow-ups to come.
 * A follow-up asks whether she reoffended, which is looked up by who she is: erased, the plan used to
 * go on reminding (follow-up.due.v1 182 days later) and listing a nameless plan on the worklist. Now
 * the request is refused (409, saying what to do), changing nothing; once her consent is withdrawn the
 * follow-ups are cancelled (counted as not known, in no figure), the plan closes, and the erasure goes
 * ahead; nothing is reminded or listed for her afterwards. Over real HTTP on the simulated clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { DAY_MS, referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

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

/**
 * Plans erased the way releases before a453479 allowed: exited, her identity gone and the plan marked,
 * its follow-up deadlines still there. They used to be listed as due, reminded (follow-up.due.v1) and
 * escalated for nobody. Now they are listed nowhere, and their next follow-up timer closes them, raising
 * nothing, so their deadlines and escalations leave the store's due and escalation indexes.
 */
describe('a plan erased before erasure waited for its follow-ups', () => {
  let old: SecurityStack;
  let erasedAtExit: string;
  let erasedWhenEscalated: string;

  const planOf = async (id: string) => (await old.call('GET', `/plans/${id}`, { token: old.coordinator })).json;
  const historyOf = async (id: string) => ((await old.call('GET', `/plans/${id}/history`, { token: old.coordinator })).json.items as { type: string }[]).map((e) => e.type);
  const listed = async (path: string, token = old.coordinator) => {
    const res = await old.call('GET', path, { token });
    expect(res.status, res.text).toBe(200);
    return (res.json.items as { planId: string }[]).map((p) => p.planId);
  };
  /** Erased as those releases did: her identity deleted and the plan marked, nothing else changed. */
  const eraseTheOldWay = async (id: string) => {
    const plan = (await old.stack.plans.getPlan(id))!;
    await old.stack.plans.deleteIdentity(plan.participantId);
    await old.stack.plans.markIdentityErased(id, old.now());
  };
  /** The plan item's index attributes: in the due (byWork) and overdue (byAlert) indexes while set. */
  const indexEntries = async (id: string) => {
    const item = (await old.stack.plans.client.send(new GetCommand({ TableName: old.stack.plans.tableName, Key: keys.plan(id), ConsistentRead: true }))).Item!;
    return { work: item.workAt, alert: item.alertSince };
  };

  beforeAll(async () => {
    old = await startSecurityStack();
    const exitedPlan = async () => {
      const id = (await old.call('POST', '/plans', { token: old.coordinator, body: referralBody(secretParticipant()) })).json.planId as string;
      const consent = { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: old.today(), method: 'written' };
      expect((await old.call('POST', `/plans/${id}/record-consent`, { token: old.coordinator, body: consent })).status).toBe(200);
      expect((await old.call('POST', `/plans/${id}/exit`, { token: old.coordinator, body: { reason: 'completed' } })).json.stage).toBe('exited');
      return id;
    };
    erasedAtExit = await exitedPlan();
    erasedWhenEscalated = await exitedPlan();
    await eraseTheOldWay(erasedAtExit);
  });
  afterAll(async () => {
    await old?.stop();
  });

  it('is not on the due lists in the days before its follow-up falls due (one not erased is)', async () => {
    const sixMonths = (await planOf(erasedAtExit)).deadlines.find((d: { deadlineId: string }) => d.deadlineId === 'follow-up-due:6').dueAt as string;
    await old.advance(Date.parse(sixMonths) - 3 * DAY_MS - Date.parse(old.now()), 7 * DAY_MS);
    const week = await listed('/plans?due=this-week&limit=100');
    expect(week).toContain(erasedWhenEscalated);
    expect(week).not.toContain(erasedAtExit);
  });

  it('is not reminded when its follow-up falls due: the timer closes it, with no deadline or escalation left', async () => {
    // Past the 6-month reminder and its escalation 14 days later for the plan not yet erased.
    await old.advance(20 * DAY_MS, DAY_MS);
    const plan = await planOf(erasedAtExit);
    expect(plan).toMatchObject({ stage: 'closed', deadlines: [], openEscalations: [] });
    const history = await historyOf(erasedAtExit);
    expect(history.filter((type) => type === 'follow-up.due.v1')).toEqual([]);
    expect(history.at(-1)).toBe('plan.closed.v1');
    expect(await indexEntries(erasedAtExit)).toEqual({ work: undefined, alert: undefined });
    // The plan not erased was reminded and escalated as usual.
    expect((await planOf(erasedWhenEscalated)).openEscalations.map((e: { kind: string }) => e.kind)).toEqual(['follow-up-due:6']);
  });

  it('erased once escalated, it leaves the escalations list at once, and its next timer closes it and resolves the escalation', async () => {
    expect(await listed('/escalations', old.teamLead)).toContain(erasedWhenEscalated);
    await eraseTheOldWay(erasedWhenEscalated);
    expect(await listed('/escalations', old.teamLead)).not.toContain(erasedWhenEscalated);
    expect(await listed('/plans?due=overdue&limit=100')).not.toContain(erasedWhenEscalated);
    const reminders = (await historyOf(erasedWhenEscalated)).filter((type) => type === 'follow-up.due.v1').length;
    await old.advance(15 * DAY_MS, DAY_MS);
    const plan = await planOf(erasedWhenEscalated);
    expect(plan).toMatchObject({ stage: 'closed', deadlines: [], openEscalations: [] });
    expect((await historyOf(erasedWhenEscalated)).filter((type) => type === 'follow-up.due.v1')).toHaveLength(reminders);
    expect(await indexEntries(erasedWhenEscalated)).toEqual({ work: undefined, alert: undefined });
  });
});
