/**
 * The team lead's audit log in words, in Chromium: each action as the table in
 * lib/domain/audit-actions.ts names it (no raw codes), whether each change was done or refused (and a
 * record of a change kept before outcomes were, as not recorded), and her own read of a plan with
 * oversight as its why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { planActive, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
let planId: string;

beforeAll(async () => {
  h = await startHarness();
  planId = (await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] })).planId;
  // A command the plan's stage refuses: it is recorded, and refused.
  const consent = { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: h.stack.clock.now().slice(0, 10), method: 'written' };
  expect((await h.call('POST', `/plans/${planId}/record-consent`, h.token('coordinator'), consent)).status).toBe(409);
  expect((await h.call('GET', `/plans/${planId}`, h.token('team-lead'))).status).toBe(200);
  // A record of a change as the log stored them before outcomes were kept.
  const log = new DynamoAuditLog(h.stack.plans.client, h.stack.plans.tableName);
  await log.record({ who: 'c0ffee00-0000-4000-8000-00000000d005', whoName: 'Old Record', role: 'coordinator', action: 'command:record-review', planId, why: 'support-planning', at: h.stack.clock.now() });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('audit log in words (team lead)', () => {
  it('names every action in words, says whether each change was done, and a team lead reads for oversight', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/audit-log?plan=${planId}`);
    const records = page.getByRole('region', { name: /records shown/ });
    await records.waitFor();
    const rows = async () =>
      (await records.locator('tbody tr').all()).length > 0
        ? Promise.all((await records.locator('tbody tr').all()).map(async (row) => (await row.getByRole('cell').allInnerTexts()).map((t) => t.trim())))
        : [];
    await expect.poll(async () => (await rows()).length).toBeGreaterThan(5);
    const all = await rows();
    // [when, who, role, action, outcome, about, why]
    const actions = all.map((cells) => cells[3]);
    for (const action of actions) expect(action, 'an action shown as its code').not.toMatch(/^[a-z]+(-[a-z]+)*(:[a-z-]+)?$/);
    const outcomes = (action: string, role: string) => all.filter((cells) => cells[3] === action && cells[2] === role).map((cells) => cells[4]).sort();
    expect(outcomes('Record consent', 'Coordinator')).toEqual(['Done', 'Refused, nothing changed (409 Conflict)']);
    expect(outcomes('Record assessment', 'Coordinator')).toEqual(['Done']);
    expect(outcomes('Accept offer', 'Provider')).toEqual(['Done']);
    expect(outcomes('Record review', 'Coordinator')).toEqual(['Outcome not recorded']);
    expect(all.find((cells) => cells[3] === 'Read the plan' && cells[2] === 'Team lead')?.slice(4)).toEqual(['', expect.stringContaining(planId), 'Oversight']);
    await screenshot(page, 'audit-words');
    expect(errors).toEqual([]);
  });
});
