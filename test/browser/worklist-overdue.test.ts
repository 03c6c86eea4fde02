/**
 * The coordinator's "Overdue and escalated" list, in Chromium: a plan listed only because its next
 * deadline has passed (the sweeper has not escalated it yet) is marked overdue as an escalated plan is,
 * and says so in words, not only by the red mark a screen reader does not read out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedClock } from '../../lib/local/clock.ts';
import { axeScan, describeViolations, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
let escalated: string;
let passed: string;

/** A referral of a woman no other referral here resembles (the API asks about likely duplicates). */
const refer = async (givenName: string, dateOfBirth: string) => {
  const res = await h.call('POST', '/plans', h.token('coordinator'), {
    participant: { givenName, familyName: `Waiting${process.pid}`, dateOfBirth },
    referral: { source: 'probation', localAuthority: 'dudley', urgency: 'routine' },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.planId as string;
};

beforeAll(async () => {
  h = await startHarness();
  // Referred and left while the sweeper runs: its assessment falls overdue and a team lead is told.
  escalated = await refer('Orla', '1988-03-04');
  await h.stack.advanceClock(15 * 86_400_000, 86_400_000);
  // Referred and left while no sweep runs: its assessment deadline passes, nothing is escalated yet.
  passed = await refer('Maeve', '1979-11-21');
  const dueAt = ((await h.call('GET', '/plans?stage=referred', h.token('coordinator'))).json.items as { planId: string; nextDue: { dueAt: string } }[]).find((p) => p.planId === passed)?.nextDue.dueAt;
  await (h.stack.clock as SimulatedClock).advance(Date.parse(dueAt ?? '') - Date.parse(h.stack.clock.now()) + 3 * 86_400_000);
  const list = (await h.call('GET', '/plans?due=overdue', h.token('coordinator'))).json.items as { planId: string; openEscalations?: unknown[]; nextReview?: unknown }[];
  expect(list.find((p) => p.planId === escalated)?.openEscalations).toHaveLength(1);
  // On the API's overdue list with no escalation and no review: only its deadline has passed.
  expect(list.find((p) => p.planId === passed)).toMatchObject({ openEscalations: [], nextReview: null });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('the overdue list (coordinator)', () => {
  it('marks a plan whose deadline has passed as it marks an escalated one, and says overdue in words', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/worklist?view=overdue');
    const item = (planId: string) => page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Plan ${planId}`, exact: true }) });
    await item(passed).waitFor();
    await item(escalated).waitFor();

    // The same mark for both.
    expect(await item(escalated).getAttribute('class')).toContain('is-overdue');
    expect(await item(passed).getAttribute('class')).toContain('is-overdue');
    // And words for both: the escalated plan says 'Escalated', the passed one 'Overdue since' its deadline.
    expect(await item(escalated).innerText()).toContain('Escalated');
    const words = await item(passed).locator('dd.overdue-text').innerText();
    expect(words).toMatch(/^Overdue since \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} \(\d+ days? ago\)$/);
    expect(describeViolations(await axeScan(page))).toBe('');
    await screenshot(page, 'worklist-overdue');
    expect(errors).toEqual([]);
  });
});
