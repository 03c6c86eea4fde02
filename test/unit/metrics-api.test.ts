/**
 * GET /metrics keeps each query's answer until the facts change: asked again with the same facts it
 * gives the same figures (as of the new time), and any change to the facts is in the next answer.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/api-metrics/handler.ts';
import { dayNumber as D } from '../../lib/domain/metrics/dates.ts';
import type { PlanFacts } from '../../lib/domain/metrics/facts.ts';
import type { MetricsSource } from '../../lib/metrics/index.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';
import { referralFacts } from '../support/metrics-reference.ts';

const referral = (day: string): PlanFacts => referralFacts({ referred: D(day), consented: true });

/** A source whose facts the test changes, with or without saying so through the generation. */
class ChangingSource implements MetricsSource {
  facts: PlanFacts[] = [];
  generation: number | undefined = 1;
  async snapshot() {
    return { facts: [...this.facts], providers: [], ...(this.generation === undefined ? {} : { generation: this.generation }) };
  }
}

function get(handler: ReturnType<typeof makeHandler>, query: string) {
  const event = lambdaEvent({ routeKey: 'GET /metrics', rawPath: '/metrics', query, claims: CLAIMS.commissioner });
  return handler(event, {} as Context).then((result) => {
    expect(result.statusCode).toBe(200);
    return JSON.parse(result.body as string) as { asOf: string; suppression: { threshold: number; roundCountsTo: number }; overall: { referrals: number | string } };
  });
}

const QUERY = 'from=2026-01-01&to=2026-12-31';

describe('GET /metrics answers', () => {
  const setup = (cacheAnswers?: boolean) => {
    const source = new ChangingSource();
    source.facts = Array.from({ length: 6 }, () => referral('2026-03-02'));
    let now = Date.parse('2027-01-01T09:00:00.000Z');
    const clock = () => new Date((now += 1000)).toISOString();
    // Exact counts, so one more referral shows (rounded to 5 by default, 6 and 7 would both read 5).
    const handler = makeHandler({ source, clock, config: { roundCountsTo: 1, ...(cacheAnswers === undefined ? {} : { cacheAnswers }) } });
    return { source, handler };
  };

  it('round shown counts to the nearest 5 by default, and as configured', async () => {
    const source = new ChangingSource();
    source.facts = Array.from({ length: 8 }, () => referral('2026-03-02'));
    const clock = () => '2027-01-01T09:00:00.000Z';
    const byDefault = await get(makeHandler({ source, clock }), QUERY);
    expect(byDefault.suppression).toMatchObject({ threshold: 5, roundCountsTo: 5 });
    expect(byDefault.overall.referrals).toBe(10);
    const byThree = await get(makeHandler({ source, clock, config: { roundCountsTo: 3 } }), QUERY);
    expect(byThree.suppression.roundCountsTo).toBe(3);
    expect(byThree.overall.referrals).toBe(9);
  });

  it('are given again, as of now, while the facts are the same generation, and worked out afresh once they change', async () => {
    const { source, handler } = setup();
    const first = await get(handler, QUERY);
    expect(first.overall.referrals).toBe(6);
    source.facts.push(referral('2026-03-03')); // the generation says nothing changed, so the kept answer stands
    const again = await get(handler, QUERY);
    expect(again.overall.referrals).toBe(6);
    expect(again.asOf > first.asOf).toBe(true);
    expect((await get(handler, 'from=2026-01-01&to=2026-09-30')).overall.referrals).toBe(7); // another query is its own answer
    source.generation = 2;
    expect((await get(handler, QUERY)).overall.referrals).toBe(7);
  });

  it('are always worked out afresh from a source without generations, or with caching off', async () => {
    const withoutGenerations = setup();
    withoutGenerations.source.generation = undefined;
    for (const { source, handler } of [setup(false), withoutGenerations]) {
      await get(handler, QUERY);
      source.facts.push(referral('2026-03-03'));
      expect((await get(handler, QUERY)).overall.referrals).toBe(7);
    }
  });
});
