/**
 * "Who looked at her contact details, and why?" about one plan, over its life, in one read of the
 * audit log. A plan's records are read through its own index, so GET /audit with planId covers up to
 * MAX_AUDIT_DAYS_ONE_PLAN days; over everyone's records the range stays MAX_AUDIT_DAYS. Before, every
 * range was 31 days, so two reads of her contact details two months apart were never in one answer
 * (and the plan page's "Who has seen this plan" showed the last 7 days). Over real HTTP on the
 * embedded stack, with the simulated clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { addCalendarDays, londonDate } from '../../lib/domain/calendar.ts';
import { MAX_AUDIT_DAYS, MAX_AUDIT_DAYS_ONE_PLAN } from '../../lib/domain/vocabulary.ts';
import { anotherParticipant, makeCall, referral, type Call, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
const user = (role: string, providerId?: string) => stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId))!.token;

async function ok(method: string, path: string, as: string, body?: unknown, headers?: Record<string, string>): Promise<Json> {
  const res = await call(method, path, { token: as, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return res.json;
}

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined } });
  call = makeCall(stack.url);
});
afterAll(async () => stack?.stop());

describe('the audit log about one plan', () => {
  it('answers who read her contact details and why over months in one read, and keeps the 31 days over everyone', async () => {
    const coordinator = user('coordinator');
    const lead = user('team-lead');
    const referredOn = stack.clock.now().slice(0, 10);
    const plan = await ok('POST', '/plans', coordinator, referral({ participant: { ...anotherParticipant(), contact: { phone: '07700 900123' } } }));
    const planId = plan.planId as string;
    await ok('POST', `/plans/${planId}/record-consent`, coordinator, {
      scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] },
      givenAt: londonDate(stack.clock.now()),
      method: 'written',
    });
    const assessed = await ok('POST', `/plans/${planId}/submit-assessment`, coordinator, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const offer = (assessed.allocations as Json[])[0];
    const provider = user('provider', offer.providerId);
    await ok('POST', `/allocations/${offer.allocationId}/accept`, provider, {});

    await ok('GET', `/allocations/${offer.allocationId}/participant`, provider, undefined, { 'X-Purpose': 'safeguarding' });
    await stack.advanceClock(60 * 86_400_000);
    await ok('GET', `/allocations/${offer.allocationId}/participant`, provider);
    const today = stack.clock.now().slice(0, 10);
    expect(today > addCalendarDays(referredOn, MAX_AUDIT_DAYS)).toBe(true);

    const records = (await ok('GET', `/audit?from=${referredOn}&to=${today}&planId=${planId}&limit=1000`, lead)).items as Json[];
    const contactReads = records.filter((r) => r.action === 'read-participant-contact');
    expect(contactReads.map((r) => [r.at.slice(0, 10), r.whoProviderId, r.why])).toEqual([
      [referredOn, offer.providerId, 'safeguarding'],
      [today, offer.providerId, 'contacting-the-participant'],
    ]);

    // Over everyone's records the range is still a month: each day is read whole.
    const everyone = await call('GET', `/audit?from=${referredOn}&to=${today}`, { token: lead });
    expect(everyone.status).toBe(400);
    expect(everyone.json.errors).toEqual([{ path: 'to', message: `at most ${MAX_AUDIT_DAYS} days after from (about one plan, with planId: ${MAX_AUDIT_DAYS_ONE_PLAN})` }]);
    // And about one plan, no further than its own limit.
    const tooLong = await call('GET', `/audit?from=${addCalendarDays(today, -MAX_AUDIT_DAYS_ONE_PLAN - 1)}&to=${today}&planId=${planId}`, { token: lead });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.errors).toEqual([{ path: 'to', message: `at most ${MAX_AUDIT_DAYS_ONE_PLAN} days after from about one plan` }]);
    // A plan id mistyped is named as one (it read "is not in the form this field takes").
    const mistyped = await call('GET', `/audit?from=${today}&to=${today}&planId=${planId.slice(3)}`, { token: lead });
    expect(mistyped.status).toBe(400);
    expect(mistyped.json.errors).toEqual([{ path: 'planId', message: 'must be a plan id like pl_…' }]);
  });
});
