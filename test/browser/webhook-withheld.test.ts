/**
 * A dead letter her consent withholds (an offer carrying her needs, once her consent is withdrawn) is
 * not offered for replay on the delivery log: the page says why in words, and the API refuses its
 * replay with a 409 naming why, queueing nothing. Another dead letter beside it is still replayable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAllocating, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('delivery log: a dead letter withheld by her consent', () => {
  it('offers no Replay for it and says why; the API refuses its replay; a dead letter of references only keeps Replay', async () => {
    const subscribed = await h.call('POST', '/providers/bcwa/subscriptions', h.token('team-lead'), { url: 'http://127.0.0.1:9/bcwa' });
    expect(subscribed.status, subscribed.text).toBe(201);
    const plan = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    expect(plan.allocations.some((a: Json) => a.providerId === 'bcwa')).toBe(true);
    const withdrawn = await h.call('POST', `/plans/${plan.planId}/withdraw-consent`, h.token('coordinator'), {});
    expect(withdrawn.status, withdrawn.text).toBe(200);
    // The delivery loop asks her consent before sending the offer: withheld, dead-lettered, nothing sent.
    await h.stack.webhooks.runOnce();
    const bcwa = h.token('provider', 'bcwa');
    const log = await h.call('GET', '/providers/bcwa/deliveries?status=dead', bcwa);
    const offer = (log.json.items as Json[]).find((d) => d.planRef === plan.planId && d.eventType === 'allocation.offered.v1');
    expect(offer).toMatchObject({ status: 'dead', withheld: 'her consent was withdrawn' });

    // A dead letter of references only (another plan's withdrawn offer): replayable as ever.
    const at = h.stack.clock.now();
    const other = 'pl_0000000000000000000f0f01';
    expect(
      await h.stack.webhooks.store.enqueue({
        deliveryId: `dl_${other.slice(3)}_5`,
        providerId: 'bcwa',
        planId: other,
        sequence: 5,
        eventId: '00000000-0000-4000-8f0f-000000000001',
        eventType: 'allocation.withdrawn.v1',
        body: '{}',
        status: 'dead',
        attempts: 6,
        replays: 0,
        createdAt: at,
        deadAt: at,
        lastError: 'the receiver answered 503',
        log: [],
      }),
    ).toBe(true);

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/webhook?status=dead');
    const item = page.locator('li.delivery', { hasText: plan.planId });
    await expect
      .poll(() => item.textContent())
      .toContain('Not sent, and it cannot be replayed: this event carries her needs, and her consent was withdrawn. They are no longer sent to this provider, which was told to delete what it holds about her.');
    expect(await item.getByRole('button', { name: 'Replay' }).count()).toBe(0);
    const replayable = page.locator('li.delivery', { hasText: other });
    await replayable.getByRole('button', { name: 'Replay', exact: true }).waitFor();
    // Only one dead letter may be replayed, so there is no 'Replay all'.
    expect(await page.getByRole('button', { name: /^Replay all/ }).count()).toBe(0);

    const refused = await h.call('POST', `/providers/bcwa/deliveries/${offer.deliveryId}/replay`, bcwa, {});
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toBe(
      `Delivery ${offer.deliveryId} cannot be replayed: it carries her needs (allocation.offered.v1) and her consent was withdrawn, so they are no longer sent to bcwa, which was told to delete what it holds about her. Nothing was queued.`,
    );
    const after = await h.call('GET', '/providers/bcwa/deliveries?status=dead', bcwa);
    expect((after.json.items as Json[]).find((d) => d.deliveryId === offer.deliveryId)).toMatchObject({ status: 'dead', replays: 0 });
    expect(errors).toEqual([]);
  });
});
