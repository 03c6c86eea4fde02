/**
 * "Who has seen this plan" in Chromium names people: the team lead sees the named coordinator's read
 * of the plan with her name and role, the provider's staff member's read of the allocation with her
 * name and organisation, a record written before names were kept, or from a token without one, as "no name given (id …)", and the
 * sweeper's own record as the system's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { planActive, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
let planId: string;
let organisation: string;
const JO = { sub: 'c0ffee00-0000-4000-8000-00000000a001', name: 'Jo Okonjo-Marsh' };
const SAM = { sub: 'c0ffee00-0000-4000-8000-00000000b002', name: 'Sam Achterberg' };
const OLD_SUB = 'c0ffee00-0000-4000-8000-00000000d004';

beforeAll(async () => {
  h = await startHarness();
  const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
  planId = plan.planId;
  const allocation = plan.allocations.find((a: Json) => a.status === 'accepted');
  organisation = h.stack.directory.organizations.find((o) => o.id === allocation.providerId)?.name ?? '';
  expect(organisation).not.toBe('');
  const jo = await h.stack.tokens.issue({ role: 'coordinator', ...JO });
  const sam = await h.stack.tokens.issue({ role: 'provider', providerId: allocation.providerId, ...SAM });
  expect((await h.call('GET', `/plans/${planId}`, jo)).status).toBe(200);
  expect((await h.call('GET', `/allocations/${allocation.allocationId}`, sam)).status).toBe(200);
  // A record as the log stored them before names were kept.
  const log = new DynamoAuditLog(h.stack.plans.client, h.stack.plans.tableName);
  await log.record({ who: OLD_SUB, role: 'coordinator', action: 'read-history', planId, why: 'support-planning', at: h.stack.clock.now() });
  // As the sweeper records anonymising her identity after the retention period (functions/sweeper/handler.ts).
  await log.record({ who: 'sweeper', role: 'system', action: 'anonymise', planId, why: 'retention period of 365 days after the plan ended', at: h.stack.clock.now() });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe("who has seen this plan (team lead's audit log)", () => {
  it('names the coordinator and the provider staff member who read it, and says when a record has no name', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/plan/${planId}`);
    await page.getByRole('link', { name: 'Who has seen this plan' }).click();
    const records = page.getByRole('region', { name: /records shown/ });
    await records.waitFor();
    const cellsOf = (text: string) => records.getByRole('row').filter({ hasText: text }).getByRole('cell').allInnerTexts();

    const hers = await cellsOf(JO.name);
    expect(hers.slice(1, 4)).toEqual([JO.name, 'Coordinator', 'Read the plan and who she is']);
    // The organisation's name comes from the directory the app reads at start.
    await expect.poll(async () => (await cellsOf(SAM.name)).slice(1, 4)).toEqual([`${SAM.name}\n${organisation}`, 'Provider', 'Read an allocation']);
    expect((await cellsOf(OLD_SUB)).slice(1, 4)).toEqual([`no name given (id ${OLD_SUB})`, 'Coordinator', "Read the plan's history"]);
    // The system's own work is not shown as a person whose name is unknown.
    expect((await cellsOf('Wraparound itself')).slice(1, 4)).toEqual(['Wraparound itself (sweeper)', 'System', 'Anonymised the plan at the end of the retention period']);
    await screenshot(page, 'audit-names');
    expect(errors).toEqual([]);
  });
});
