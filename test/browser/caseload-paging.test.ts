/**
 * A provider whose caseload is past the records one page of GET /providers/{id}/allocations reads with
 * a status filter (bounded rounds, so the page comes back empty with a cursor): the caseload does not
 * say "Nothing here." while there is more to read, and "Show more allocations" finds her allocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchPut } from '../../lib/adapters/dynamodb/batch.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { planActive, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

/** Ended allocations of bcwa sorting before any real one: more than one filtered page reads (20 rounds of 500). */
const PAST = 10_500;
const pastId = (i: number) => `al_000000${String(i).padStart(10, '0')}_1`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const items = Array.from({ length: PAST }, (_, i) => ({
    ...keys.providerAllocation('bcwa', pastId(i)),
    type: 'provider-allocation',
    providerId: 'bcwa',
    allocationId: pastId(i),
    planRef: `pl_000000${String(i).padStart(10, '0')}`,
    status: 'ended',
    serviceId: 'bcwa-domestic-abuse',
    needs: [{ domain: 'domestic-abuse', level: 'medium' }],
    lead: true,
    sequence: 7,
    updatedAt: '2026-01-10T09:00:00.000Z',
  }));
  await batchPut(h.stack.plans.client, TABLE_NAME_DEFAULT, items);
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
