/**
 * A service whose capacity a team lead lowered below the places its allocations hold: the Services page
 * says how many more it holds than its capacity and what frees a place ("2 places held of 1, 1 more than
 * its capacity: none free until 2 of them go (an allocation ends; an offer is declined, withdrawn or
 * expires)"; a place is held by an offer too, which does not end but is answered or lapses), where it
 * said "2 places held of 1; 0 free", and a capacity of 0 frees none. The page also says a place made
 * free is not offered to plans already waiting.
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

describe('Services page, a capacity below the places held', () => {
  it('says how many more are held than its capacity and what frees a place', async () => {
    const needs = [{ domain: 'domestic-abuse', level: 'high' as const, priority: true }];
    const first = await planActive(h, { localAuthority: 'sandwell', needs });
    const serviceId = first.allocations.find((a: Json) => a.status === 'accepted').serviceId as string;
    const second = await planActive(h, { localAuthority: 'sandwell', needs });
    expect(second.allocations.find((a: Json) => a.status === 'accepted').serviceId).toBe(serviceId);
    const lower = async (capacity: number) => {
      const res = await h.call('PATCH', `/directory/services/${serviceId}`, h.token('team-lead'), { capacity });
      expect(res.status, res.text).toBe(200);
      return res.json.name as string;
    };
    const name = await lower(1);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', '/services');
    const card = page.getByRole('article', { name });
    await expect.poll(() => card.innerText()).toContain('2 places held of 1, 1 more than its capacity: none free until 2 of them go (an allocation ends; an offer is declined, withdrawn or expires). Active.');
    expect(await page.getByText('A place made free is not offered to plans already waiting').count()).toBe(1);

    await lower(0);
    await page.reload();
    await expect.poll(() => card.innerText()).toContain('2 places held of 0, 2 more than its capacity: none free while its capacity is 0. Active.');
    expect(errors).toEqual([]);
  });
});
