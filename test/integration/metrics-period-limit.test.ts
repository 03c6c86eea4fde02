/**
 * A deployment may allow commissioners shorter periods than the four quarters GET /metrics answers by
 * default (metrics.maxPeriodMonths, METRICS_MAX_PERIOD_MONTHS on AWS). Over real HTTP on an embedded
 * stack set to six months: a query that sends no `from` is answered the longest period allowed, not
 * refused over a `from` the commissioner never sent; a `from` she did send beyond the limit is refused
 * on it, in words about the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type Json, type TestStack } from '../support/http.ts';

describe('GET /metrics on a deployment allowing at most six months', () => {
  let t: TestStack;
  // START is 2 March 2026: the last complete quarter ends 31 December 2025.
  beforeAll(async () => {
    t = await startTestStack({ webDistDir: false, metrics: { maxPeriodMonths: 6 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers a query with no from with the last two complete quarters, as JSON and as CSV', async () => {
    const res = await t.call('GET', '/metrics', { token: t.commissioner });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.period).toMatchObject({ from: '2025-07-01', to: '2025-12-31' });
    // The rules the dashboard words its period hint from: two quarters at most, two by default.
    expect(res.json.periodRules).toEqual({ maxQuarters: 2, defaultQuarters: 2 });
    const csv = await t.call('GET', '/metrics.csv', { token: t.commissioner });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain('wraparound-metrics-2025-07-01-to-2025-12-31.csv');
  });

  it('fills in from back from a to that was sent, within the limit', async () => {
    const res = await t.call('GET', '/metrics?to=2025-09-30', { token: t.commissioner });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.period).toMatchObject({ from: '2025-04-01', to: '2025-09-30' });
  });

  it('refuses a from that was sent beyond the limit, naming it and the limit', async () => {
    const res = await t.call('GET', '/metrics?from=2025-01-01', { token: t.commissioner });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.json.errors).toEqual([
      {
        path: 'from',
        message: 'the period may cover at most 6 months (2 quarters): from 2025-01-01 (to was not given: the end of the last complete quarter, 2025-12-31) is 12 months; from must be 2025-07-01 or later',
      },
    ] satisfies Json[]);
  });
});
