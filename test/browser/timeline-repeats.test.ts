/**
 * A plan left in referred: its assessment escalation is raised again every week. The timeline shows
 * it as one line (first date, how often, how many times, still open), not one line per week, and its
 * every date is one click away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

describe('a long timeline', () => {
  it('shows an escalation repeated weekly for a year as one line, its dates behind a disclosure', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Left', familyName: 'Waiting', dateOfBirth: '1984-05-06' },
      referral: { source: 'probation', localAuthority: 'walsall', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    await h.stack.advanceClock(400 * 86_400_000, 86_400_000);
    const history = (await h.call('GET', `/plans/${referred.json.planId}/history`, coordinator)).json;
    const escalations = history.items.filter((i: Json) => i.type === 'plan.escalated.v1');
    expect(escalations.length).toBeGreaterThan(50);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${referred.json.planId}`);
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByText('Referred', { exact: true }).waitFor();
    const shown = await timeline.innerText();
    expect(shown.match(/Escalated: assessment overdue/g)).toHaveLength(1);
    expect(shown).toMatch(new RegExp(`First \\d+ \\w+ 202\\d, repeated (about )?weekly ${escalations.length - 1} times to \\d+ \\w+ 202\\d; still open`));
    expect(shown).not.toContain('Still open: nobody has acted yet');
    expect(shown.length).toBeLessThan(2_000);

    await timeline.getByText(`Every date (${escalations.length})`).click();
    const dates = timeline.locator('.timeline-dates time');
    await expect.poll(() => dates.count()).toBe(escalations.length);
    expect(await dates.evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')))).toEqual(escalations.map((e: Json) => e.time));
    await screenshot(page, 'timeline-repeated-escalation');
    expect(errors).toEqual([]);
  });
});
