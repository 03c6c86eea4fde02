/**
 * A deadline that has moved on is not a date to come. A follow-up falls due 6 months after her exit:
 * that day the coordinator is reminded and its deadline moves on two weeks, to when the team lead is
 * told. The worklist (on "Overdue and escalated") and the plan's Deadlines read that later day as
 * "Follow-up due 12 Jun (in 12 days)", unmarked, while the follow-up was already due. And on the plan
 * page a deadline that only repeats an open escalation read as the next repeat ("Assessment due: …
 * (in 5 days)") under the banner saying it was escalated weeks ago. The follow-up form offers only the
 * follow-ups whose day has come (it offered the 12-month one too, which the API refuses until then).
 * Six months on, with the 6-month follow-up still not recorded (escalated), the 12-month line is said to
 * be overdue since its own day: the line carries it (nextDue.followUpDueAt), where the worklist could
 * only tell the 6-month day and fell back to "(in N days)".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths } from '../../lib/domain/calendar.ts';
import { formatDate } from '../../web/src/format.ts';
import { acceptAll, planAllocating, screenshot, signIn, startHarness, type Harness } from './support.ts';

const DAY = 86_400_000;
let h: Harness;
let exited: string;
let waiting: string;

beforeAll(async () => {
  h = await startHarness();
  const coordinator = h.token('coordinator');
  const referred = await h.call('POST', '/plans', coordinator, {
    participant: { givenName: 'Niamh', familyName: `Reminded${process.pid}`, dateOfBirth: '1983-06-17' },
    referral: { source: 'probation', localAuthority: 'dudley', urgency: 'routine' },
  });
  expect(referred.status, referred.text).toBe(201);
  waiting = referred.json.planId;
  const active = await acceptAll(h, await planAllocating(h, { needs: [{ domain: 'accommodation', level: 'high', priority: true }] }));
  expect(active.stage).toBe('active');
  exited = active.planId;
  const exit = await h.call('POST', `/plans/${exited}/exit`, coordinator, { reason: 'completed' });
  expect(exit.status, exit.text).toBe(200);
  // A little past the 6-month follow-up's day: reminded, not yet escalated (that is two weeks on).
  await h.stack.advanceClock(187 * DAY, DAY);
  const plan = (await h.call('GET', `/plans/${exited}`, coordinator)).json;
  expect(plan.remindersSent).toContain('follow-up:6');
  expect(plan.openEscalations).toEqual([]);
  const sixMonths = plan.deadlines.find((d: { ref?: string }) => d.ref === '6');
  expect(Date.parse(sixMonths.dueAt)).toBeGreaterThan(Date.parse(h.stack.clock.now()));
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('deadlines after a reminder or an escalation', () => {
  it('the worklist says a reminded follow-up is overdue since its day, and when the team lead is told', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/worklist?view=overdue');
    const item = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Plan ${exited}`, exact: true }) });
    await item.waitFor();
    expect(await item.getAttribute('class')).toContain('is-overdue');
    const words = await item.locator('dd.overdue-text').innerText();
    expect(words).toMatch(/^Overdue since \d{1,2} [A-Z][a-z]{2} \d{4} \(\d+ days ago\); the team lead is told \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} if it is not recorded$/);
    expect(await item.innerText()).toContain('6-month follow-up due');
    await screenshot(page, 'worklist-follow-up-reminded');
    expect(errors).toEqual([]);
  });

  it("the plan's Deadlines say the same, and a repeated escalation reads as the escalation", async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${exited}`);
    const deadlines = page.getByRole('region', { name: 'Deadlines' });
    await deadlines.getByText('6-month follow-up due').waitFor();
    expect(await deadlines.innerText()).toMatch(/6-month follow-up due: Overdue since .+; the team lead is told .+ if it is not recorded/);
    expect(await deadlines.innerText()).not.toMatch(/6-month follow-up due: .*\(in \d+ days\)/);

    // Only the follow-up whose day has come is offered: the 12-month one would be refused until then.
    const which = page.getByRole('form', { name: 'Follow-up' }).getByRole('group', { name: 'Which follow-up' });
    expect(await which.getByLabel('6 months').isChecked()).toBe(true);
    expect(await which.getByLabel('12 months').count()).toBe(0);

    await page.goto(`${h.url}/plan/${waiting}`);
    const waitingDeadlines = page.getByRole('region', { name: 'Deadlines' });
    await waitingDeadlines.getByText('Assessment overdue').waitFor();
    expect(await waitingDeadlines.innerText()).toMatch(/Assessment overdue: since \d{1,2} [A-Z][a-z]{2} \d{4}; reminded again/);
    expect(await waitingDeadlines.innerText()).not.toContain('Assessment due');
    await screenshot(page, 'plan-deadlines-escalated');
    expect(errors).toEqual([]);
  });
});

describe('the 12-month follow-up while the 6-month one is escalated', () => {
  it('the worklist says the 12-month follow-up is overdue since its own day', async () => {
    const coordinator = h.token('coordinator');
    const exitedAt: string = (await h.call('GET', `/plans/${exited}`, coordinator)).json.exit.exitedAt;
    const twelveMonths = addMonths(exitedAt, 12);
    // A day past the 12-month day (reminded); then on a day at a time until the 12-month deadline is the line's next one:
    // the 6-month follow-up, escalated, is raised again every two weeks, and its next repeat comes first until it fires.
    await h.stack.advanceClock(Date.parse(twelveMonths) - Date.parse(h.stack.clock.now()) + DAY, DAY);
    const lineOf = async () => ((await h.call('GET', '/plans?due=overdue&limit=100', coordinator)).json.items as { planId: string; nextDue?: { ref?: string } }[]).find((p) => p.planId === exited);
    for (let day = 0; (await lineOf())?.nextDue?.ref !== '12'; day++) {
      expect(day, 'the 12-month deadline never came first').toBeLessThan(15);
      await h.stack.advanceClock(DAY, DAY);
    }
    const plan = (await h.call('GET', `/plans/${exited}`, coordinator)).json;
    expect(plan.openEscalations.map((e: { kind: string }) => e.kind)).toEqual(['follow-up-due:6']);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/worklist?view=overdue');
    const item = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Plan ${exited}`, exact: true }) });
    await item.waitFor();
    expect(await item.innerText()).toContain('12-month follow-up due');
    const words = await item.locator('dd.overdue-text', { hasText: 'Overdue since' }).innerText();
    expect(words).toMatch(new RegExp(`^Overdue since ${formatDate(twelveMonths)} \\(\\d+ days? ago\\); the team lead is told .+ if it is not recorded$`));
    await screenshot(page, 'worklist-follow-up-12-months');
    expect(errors).toEqual([]);
  }, 120_000);
});
