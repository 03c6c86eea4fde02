/**
 * A provider whose caseload is past the records one page of GET /providers/{id}/allocations reads with
 * a status filter (bounded rounds, so the page comes back empty with a cursor): the caseload does not
 * say "Nothing here." while there is more to read, and "Show more allocations" finds her allocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putPastProviderAllocations } from '../support/past-provider-allocations.ts';
import { planActive, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

/** Ended allocations of bcwa sorting before any real one: more than one filtered page reads (20 rounds of 500). */
const PAST = 10_500;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await putPastProviderAllocations(h.stack.plans.client, 'bcwa', PAST);
}, 180_000);
afterAll(async () => {
  await h?.stop();
});

describe('provider: a caseload past the first page read', () => {
  it('says there is more to read, not "Nothing here.", and Show more finds the allocation', async () => {
    const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const allocationId = plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;
    // The API's first page of accepted allocations is empty, with a cursor: the records read were all ended.
    const first = await h.call('GET', '/providers/bcwa/allocations?status=accepted&limit=50', h.token('provider', 'bcwa'));
    expect(first.json.items).toEqual([]);
    expect(first.json.nextCursor).toEqual(expect.any(String));

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/caseload');
    const more = page.getByRole('button', { name: 'Show more allocations' });
    await more.waitFor();
    expect(await page.locator('p.empty').textContent()).toContain('None found yet');
    expect(await page.getByText('Nothing here.').count()).toBe(0);
    await more.click();
    await page.locator(`a[href="/caseload/${allocationId}"]`).waitFor();
    expect(errors).toEqual([]);
  });
});
