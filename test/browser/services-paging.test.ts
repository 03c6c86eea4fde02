/**
 * The Services page with a directory larger than one page of GET /directory/services (100 at most), in
 * Chromium: all 150 services are shown, the last one too, a change to one past the first page is saved
 * and shown as for any other, and the audit log names it (the app's names read every page too).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SERVICES_PER_PAGE } from '../../lib/domain/vocabulary.ts';
import { signIn, startHarness, type Harness } from './support.ts';

const SERVICES = 150;
const ORGANIZATIONS = ['north-partners', 'south-partners', 'west-partners'];
const nameOf = (n: number) => `Key work ${String(n).padStart(3, '0')}`;

let h: Harness;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wraparound-services-paging-'));
  const file = join(dir, 'providers.json');
  await writeFile(
    file,
    JSON.stringify({
      name: 'A directory of 150 services',
      illustrative: true,
      organizations: ORGANIZATIONS.map((id) => ({ id, name: `${id.split('-')[0]} Partners` })),
      services: Array.from({ length: SERVICES }, (_, i) => ({
        id: `key-work-${i + 1}`,
        organizationId: ORGANIZATIONS[i % ORGANIZATIONS.length],
        name: nameOf(i + 1),
        needDomains: ['accommodation'],
        serviceAreas: ['sandwell'],
        capacity: 10,
      })),
    }),
  );
  h = await startHarness({ providersFile: file });
  // The API gives them in two pages.
  expect(SERVICES).toBeGreaterThan(MAX_SERVICES_PER_PAGE);
  const first = await h.call('GET', `/directory/services?per_page=${MAX_SERVICES_PER_PAGE}`, h.token('team-lead'));
  expect(first.json).toMatchObject({ total_items: SERVICES, total_pages: 2, last_page: false });
}, 60_000);

afterAll(async () => {
  await h?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('services and capacity with more services than one page (team lead)', () => {
  it('shows every service and changes one past the first page', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', '/services');
    await page.getByRole('heading', { level: 1, name: 'Services and capacity' }).waitFor();
    const cards = page.locator('article.service-capacity');
    await expect.poll(() => cards.count()).toBe(SERVICES);
    const names = (await page.locator('article.service-capacity h3').allInnerTexts()).sort();
    expect(names).toEqual(Array.from({ length: SERVICES }, (_, i) => nameOf(i + 1)).sort());

    const last = page.getByRole('article', { name: nameOf(SERVICES) });
    await expect.poll(() => last.innerText()).toContain('0 places held of 10; 10 free. Active.');
    await last.getByLabel('Capacity').fill('12');
    await last.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => last.innerText()).toContain('0 places held of 12; 12 free.');
    expect((await h.call('GET', `/directory/services/key-work-${SERVICES}`, h.token('team-lead'))).json.x_capacity.capacity).toBe(12);
    // Still every service after the reload the change made.
    expect(await cards.count()).toBe(SERVICES);

    // The audit log names that service as the directory does, though it is not on the first page.
    await page.getByRole('main').getByRole('link', { name: 'audit log' }).click();
    const row = page.getByRole('region', { name: /records shown/ }).getByRole('row').filter({ hasText: "Changed a service's capacity or status" });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toContain(`Service ${nameOf(SERVICES)}`);
    expect(errors).toEqual([]);
  });
});
