/**
 * A team lead sees and changes each service's capacity on the Services page, in Chromium: the places
 * held of its capacity, a capacity past the bound refused in plain words next to the field (nothing
 * changed), a change saved and shown, and that change in the audit log with its old and new capacity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SERVICE_CAPACITY } from '../../lib/domain/vocabulary.ts';
import { axeScan, describeViolations, planActive, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
let serviceId: string;
let serviceName: string;
let capacity: number;

beforeAll(async () => {
  h = await startHarness();
  const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
  serviceId = plan.allocations.find((a: Json) => a.status === 'accepted').serviceId;
  const service = (await h.call('GET', `/directory/services/${serviceId}`, h.token('team-lead'))).json;
  serviceName = service.name;
  capacity = service.x_capacity.capacity;
  expect(service.x_capacity.in_use).toBe(1);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('services and capacity (team lead)', () => {
  it('shows places held of each capacity, refuses too large a capacity in words, saves a change and logs it', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByRole('heading', { level: 1, name: 'Services and capacity' }).waitFor();
    const card = page.getByRole('article', { name: serviceName });
    await expect.poll(() => card.innerText()).toContain(`1 place held of ${capacity}; ${capacity - 1} free. Active.`);

    const field = card.getByLabel('Capacity');
    await field.fill('100000');
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.locator('.field-error').innerText()).toContain(`must be ${MAX_SERVICE_CAPACITY} or less`);
    expect((await h.call('GET', `/directory/services/${serviceId}`, h.token('team-lead'))).json.x_capacity.capacity).toBe(capacity);
    await screenshot(page, 'services-refused');

    await field.fill(String(capacity + 5));
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.innerText()).toContain(`1 place held of ${capacity + 5}; ${capacity + 4} free.`);
    await expect.poll(() => card.locator('.field-error').count()).toBe(0);
    expect((await h.call('GET', `/directory/services/${serviceId}`, h.token('team-lead'))).json.x_capacity.capacity).toBe(capacity + 5);
    expect(describeViolations(await axeScan(page))).toBe('');

    await page.getByRole('main').getByRole('link', { name: 'audit log' }).click();
    const records = page.getByRole('region', { name: /records shown/ });
    const row = records.getByRole('row').filter({ hasText: "Changed a service's capacity or status" });
    await expect.poll(() => row.count()).toBe(1);
    const cells = (await row.getByRole('cell').allInnerTexts()).map((t) => t.trim());
    expect(cells.slice(2, 5)).toEqual(['Team lead', "Changed a service's capacity or status", 'Done']);
    expect(cells[5]).toContain(`Service ${serviceName}`);
    expect(cells[5]).toContain(`capacity ${capacity} → ${capacity + 5}`);
    expect(cells[6]).toBe('Oversight');
    await screenshot(page, 'services-audit');
    expect(errors).toEqual([]);
  });
});
