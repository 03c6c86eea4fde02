/**
 * A provider with more allocation records than one DynamoDB Query page holds (1 MB): its open offers
 * are all listed (GET /providers/{id}/offers), and its allocations come a page at a time with a cursor
 * that walks every record once (GET /providers/{id}/allocations), over real HTTP on the embedded
 * stack's dynalite, which pages at 1 MB as DynamoDB does. The records are never deleted, so a provider
 * reaches this after a few thousand allocations; an offer whose record sorts after the first page
 * dropped out of its inbox and expired unanswered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pastAllocationId, putPastProviderAllocations } from '../support/past-provider-allocations.ts';
import { consent, referral, startTestStack, type Json, type TestStack } from '../support/http.ts';

/** Past allocations of bcwa, each ~430 bytes as stored: 3,000 of them are well over 1 MB. */
const PAST = 3_000;

let t: TestStack;
let offered: Json;
beforeAll(async () => {
  t = await startTestStack();
  // Six needs and a deadline each, so 3,000 records are well over 1 MB.
  await putPastProviderAllocations(t.stack.plans.client, 'bcwa', PAST, {
    needs: ['domestic-abuse', 'thinking-behaviour', 'trauma', 'emotional-resilience', 'interpersonal-skills', 'children-families'].map((domain) => ({ domain, level: 'medium' })),
    respondBy: '2026-01-05T17:00:00.000Z',
  });
  // A real plan whose domestic-abuse need is offered to bcwa: its record sorts after every past one.
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral() });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) })).status).toBe(200);
  const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] } });
  expect(assessed.status, assessed.text).toBe(200);
  offered = (assessed.json.allocations as Json[]).find((a) => a.providerId === 'bcwa');
  expect(offered, 'an offer to bcwa').toBeDefined();
  expect(offered.allocationId > pastAllocationId(PAST - 1)).toBe(true);
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('a provider with more than 1 MB of allocation records', () => {
  it('lists its open offer, whose record is past the first page', async () => {
    const res = await t.call('GET', '/providers/bcwa/offers', { token: t.provider('bcwa') });
    expect(res.status, res.text).toBe(200);
    expect((res.json.items as Json[]).map((i) => i.allocationId)).toEqual([offered.allocationId]);
  });

  it('pages its allocations with a cursor: every record once, none repeated', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Json = await t.call('GET', `/providers/bcwa/allocations?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: t.provider('bcwa') });
      expect(res.status, res.text).toBe(200);
      expect(res.json.items.length).toBeLessThanOrEqual(200);
      seen.push(...(res.json.items as Json[]).map((i) => i.allocationId as string));
      cursor = res.json.nextCursor as string | null;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil((PAST + 1) / 200));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(PAST + 1);
    expect(seen.at(-1)).toBe(offered.allocationId);
  });

  it('reads one status past the first page: the offer with status=offered, a page at a time', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Json = await t.call('GET', `/providers/bcwa/allocations?status=offered&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: t.provider('bcwa') });
      expect(res.status, res.text).toBe(200);
      seen.push(...(res.json.items as Json[]).map((i) => i.allocationId as string));
      cursor = res.json.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual([offered.allocationId]);
    const ended = await t.call('GET', '/providers/bcwa/allocations?status=ended&limit=7', { token: t.provider('bcwa') });
    expect((ended.json.items as Json[]).map((i) => i.allocationId)).toEqual(Array.from({ length: 7 }, (_, i) => pastAllocationId(i)));
    const next = await t.call('GET', `/providers/bcwa/allocations?status=ended&limit=7&cursor=${encodeURIComponent(ended.json.nextCursor as string)}`, { token: t.provider('bcwa') });
    expect((next.json.items as Json[]).map((i) => i.allocationId)).toEqual(Array.from({ length: 7 }, (_, i) => pastAllocationId(i + 7)));
  });

  it('refuses a bad limit or cursor with a 400 naming it', async () => {
    for (const [params, field] of [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from(JSON.stringify({ sk: 'FEED#2026' })).toString('base64url')}`, 'cursor'],
    ] as const) {
      const res = await t.call('GET', `/providers/bcwa/allocations?${params}`, { token: t.provider('bcwa') });
      expect(res.status, `${params}: ${res.text}`).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((res.json.errors as Json[]).map((e) => e.path)).toContain(field);
    }
  });
});
