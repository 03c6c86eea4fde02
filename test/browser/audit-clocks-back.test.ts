/**
 * The night the clocks go back, 01:00 to 01:59 UK time happens twice. Two reads of her contact details an
 * hour apart, at 01:30 BST and at 01:30 GMT, read so in the audit log; before, both read "31 Oct 2027,
 * 01:30", and a governance lead matching the log against other records of the night could not tell
 * which came first or how far apart they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const HOUR_MS = 3_600_000;
/** 01:30 BST on the last Sunday of October 2027; an hour later it is 01:30 GMT. */
const FIRST_READ = '2027-10-31T00:30:00.000Z';

describe('audit log times', () => {
  it('say BST or GMT, so the hour the clocks go back is not read as one', async () => {
    const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], share: ['needs', 'contact-details'] });
    const allocation = plan.allocations.find((a: Json) => a.status === 'accepted');
    const provider = h.token('provider', allocation.providerId);
    const read = async () => {
      const res = await h.call('GET', `/allocations/${allocation.allocationId}/participant`, provider);
      expect(res.status, res.text).toBe(200);
    };
    const ahead = Date.parse(FIRST_READ) - Date.parse(h.stack.clock.now());
    expect(ahead).toBeGreaterThan(0);
    await h.stack.advanceClock(ahead, 7 * 24 * HOUR_MS);
    expect(h.stack.clock.now()).toBe(FIRST_READ);
    await read();
    await h.stack.advanceClock(HOUR_MS, HOUR_MS);
    await read();

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/audit-log?plan=${plan.planId}&from=2027-10-31&to=2027-10-31`);
    const records = page.getByRole('region', { name: /records shown/ });
    await records.waitFor();
    const reads = records.getByRole('row').filter({ hasText: 'Read her contact details' });
    await expect.poll(() => reads.count()).toBe(2);
    const times = await Promise.all((await reads.all()).map((row) => row.getByRole('cell').first().innerText()));
    expect(times.map((t) => t.replace(/\s+/g, ' '))).toEqual(['31 Oct 2027, 01:30 BST', '31 Oct 2027, 01:30 GMT']);
    expect(errors).toEqual([]);
  });
});
