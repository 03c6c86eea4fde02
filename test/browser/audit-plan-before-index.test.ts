/**
 * "Who has seen this plan" on a table given its plan index after records were written (an upgraded AWS
 * table; here the embedded stack's marker moved into the past): the API refuses a plan range reaching
 * more than a month before the index's start (those days are read whole), so the page's three-year
 * range is read from the earliest day the API names instead, and the page says why and links to the
 * month before. Before, the API read every day back three years (~1,000 Queries on AWS, past the
 * function's timeout); with the API's bound and not the page's, the link would land on a refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { LOCAL_AWS } from '../../lib/local/dynalite-server.ts';
import { addCalendarDays } from '../../lib/domain/calendar.ts';
import { planActive, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe("a plan's audit log reaching before the plan index's start", () => {
  it('shows the records from the earliest day the API reads in one go, says why, and links to the month before', async () => {
    const referredOn = h.stack.clock.now().slice(0, 10);
    const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    await h.stack.advanceClock(60 * 86_400_000);
    const today = h.stack.clock.now().slice(0, 10);
    const indexedFrom = addCalendarDays(referredOn, 20);
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: h.stack.store.endpoint, maxAttempts: 1 }, { localStore: true });
    try {
      await client.send(new DeleteCommand({ TableName: TABLE_NAME_DEFAULT, Key: keys.auditPlanIndexMarker() }));
      await client.send(new PutCommand({ TableName: TABLE_NAME_DEFAULT, Item: { ...keys.auditPlanIndexMarker(), type: 'audit-index-marker', indexedFrom } }));
    } finally {
      client.destroy();
    }
    const earliestFrom = addCalendarDays(indexedFrom, -32);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/plan/${plan.planId}`);
    await page.getByRole('link', { name: 'Who has seen this plan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const notice = page.getByRole('status').filter({ hasText: 'not three years' });
    await notice.waitFor();
    expect(await notice.innerText()).toContain(`Shown from ${earliestFrom} to ${today}, not three years: records about a plan from before ${indexedFrom}, when this log started keeping them by plan, are read a day at a time, at most 32 days in one view.`);
    // The records are there (the referral, read from its whole day before the index), and no refusal.
    const records = page.getByRole('region', { name: /records shown/ });
    await records.getByRole('row').filter({ hasText: 'Referred her' }).first().waitFor();
    expect(await page.getByText(`UTC days ${earliestFrom} to ${today}, about plan ${plan.planId}`).count()).toBe(1);
    expect(await page.getByText(/at the earliest/).count()).toBe(0);
    await screenshot(page, 'audit-plan-before-index');

    // The month before is one view the API answers.
    await notice.getByRole('link', { name: `Show the records before ${earliestFrom}` }).click();
    const before = addCalendarDays(earliestFrom, -1);
    await page.getByText(`UTC days ${addCalendarDays(before, -31)} to ${before}, about plan ${plan.planId}`).waitFor();
    await page.getByText('No records for these days and this plan.').waitFor();
    expect(await page.getByText('not three years').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
