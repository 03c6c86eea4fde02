/**
 * An offer nobody answered, as the team lead reads it in Chromium: the Escalations page and the plan
 * page name the service and provider the offer went to (the directory's names), never the allocation
 * id, which means nothing to a person.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAllocating, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

const directory = JSON.parse(readFileSync(new URL('../../lib/directory/new-chance.json', import.meta.url), 'utf8')) as {
  organizations: { id: string; name: string }[];
  services: { id: string; organizationId: string; name: string }[];
};

let h: Harness;
let planId: string;
let offer: Json;

beforeAll(async () => {
  h = await startHarness();
  const plan = await planAllocating(h, { localAuthority: 'sandwell', needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
  planId = plan.planId;
  offer = plan.allocations[0];
  expect(offer.status).toBe('offered');
  // Offers are answered within 2 working days: a week on, with nobody answering, the sweeper has expired it.
  const advance = await h.call('POST', '/_local/clock/advance', h.token('coordinator'), { days: 7 });
  expect(advance.status, advance.text).toBe(200);
  const listed = await h.call('GET', '/escalations?limit=100', h.token('team-lead'));
  const escalations = listed.json.items.find((p: Json) => p.planId === planId).escalations;
  expect(escalations).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'offer-unanswered', ref: offer.allocationId })]));
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('an unanswered offer, for the team lead', () => {
  it('is named by the service and provider it went to on the Escalations page and the plan page, not by its allocation id', async () => {
    const service = directory.services.find((s) => s.id === offer.serviceId);
    const provider = directory.organizations.find((o) => o.id === offer.providerId);
    const words = `Offer to ${service?.name} (${provider?.name}) not answered`;
    expect(words).toBe("Offer to Domestic abuse advocacy (Black Country Women's Aid) not answered");

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await page.getByRole('link', { name: 'Escalations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Escalations' }).waitFor();
    const item = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Plan ${planId}` }) });
    await item.getByText(words).waitFor();
    // The pick-up form says what it picks up in the same words.
    await page.getByRole('form', { name: `Pick up: ${words}, plan ${planId}` }).waitFor();
    expect(await item.textContent()).not.toContain(offer.allocationId);
    await screenshot(page, 'team-lead-escalations-offer-unanswered');

    await item.getByRole('link', { name: `Plan ${planId}` }).click();
    const note = page.getByRole('note').filter({ hasText: 'Escalated to the team lead' });
    await note.getByText(words, { exact: false }).waitFor();
    expect(await note.textContent()).not.toContain(offer.allocationId);
    expect(errors).toEqual([]);
  });
});
