/**
 * An exited plan whose follow-ups nobody records does not stay open (and keep her identity) for ever:
 * FOLLOW_UPS_LAPSE_MONTHS after her 12-month follow-up fell due, each follow-up still not recorded is
 * recorded as unknown (not obtained) and the plan closes, so retention starts. Over real HTTP, the
 * embedded stack's simulated clock moved through POST /_local/clock/advance (the sweeper runs the timers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { addMonths, londonDate } from '../../lib/domain/calendar.ts';
import { FOLLOW_UPS_LAPSE_MONTHS, followUpsLapseAt } from '../../lib/domain/follow-ups.ts';
import { anotherParticipant, consent, makeCall, referral, type AllocationJson, type Call, type HistoryItemJson, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
const tokenOf = (role: string, providerId?: string) => stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId))!.token;

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined }, webDistDir: false });
  call = makeCall(stack.url);
});
afterAll(async () => {
  await stack?.stop();
});

async function ok(method: string, path: string, body?: unknown, token = tokenOf('coordinator')): Promise<Json> {
  const res = await call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const advanceTo = (instant: string) => ok('POST', '/_local/clock/advance', { days: Math.ceil((Date.parse(instant) - Date.parse(stack.clock.now())) / 86_400_000), stepHours: 24 });

describe('follow-ups nobody records', () => {
  it(`${FOLLOW_UPS_LAPSE_MONTHS} months after the 12-month one fell due: recorded as unknown, and the plan closes`, async () => {
    const created = await ok('POST', '/plans', referral({ participant: anotherParticipant() }));
    const planId = created.planId as string;
    await ok('POST', `/plans/${planId}/record-consent`, consent(londonDate(stack.clock.now())));
    const assessed = await ok('POST', `/plans/${planId}/submit-assessment`, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] });
    const offer = (assessed.allocations as AllocationJson[]).find((a) => a.status === 'offered')!;
    await ok('POST', `/allocations/${offer.allocationId}/accept`, {}, tokenOf('provider', offer.providerId));
    const exited = await ok('POST', `/plans/${planId}/exit`, { reason: 'completed' });
    expect(exited.stage).toBe('exited');
    const lapsesAt = followUpsLapseAt(exited)!;
    expect(lapsesAt).toBe(addMonths(exited.exit.exitedAt, 12 + FOLLOW_UPS_LAPSE_MONTHS));

    // The 6-month one recorded; the 12-month one reminded, then escalated, and still open the day before the lapse.
    await advanceTo(new Date(Date.parse(exited.exit.exitedAt) + 190 * 86_400_000).toISOString());
    await ok('POST', `/plans/${planId}/record-follow-up`, { month: 6, reoffended: 'no' });
    await advanceTo(new Date(Date.parse(lapsesAt) - 2 * 86_400_000).toISOString());
    const waiting = await ok('GET', `/plans/${planId}`);
    expect(waiting.stage).toBe('exited');
    expect(waiting.followUps.map((f: Json) => [f.month, f.reoffended])).toEqual([[6, 'no']]);
    expect(waiting.escalations.map((e: Json) => e.kind)).toContain('follow-up-due:12');

    await advanceTo(new Date(Date.parse(lapsesAt) + 86_400_000).toISOString());
    const closed = await ok('GET', `/plans/${planId}`);
    expect(closed.stage).toBe('closed');
    expect(closed.closedAt).toBe(lapsesAt);
    expect(closed.followUps.map((f: Json) => [f.month, f.reoffended, f.recordedAt])).toEqual([
      [6, 'no', expect.any(String)],
      [12, 'unknown', lapsesAt],
    ]);
    expect(closed.deadlines).toEqual([]);
    expect(closed.escalations.filter((e: Json) => !e.resolvedAt)).toEqual([]);
    const history = (await ok('GET', `/plans/${planId}/history`)).items as HistoryItemJson[];
    expect(history.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['follow-up.recorded.v1', { planRef: planId, month: 12, reoffended: 'unknown' }],
      ['plan.closed.v1', { planRef: planId }],
    ]);
    // Learned later, the answer is corrected on the closed plan, as any recorded follow-up is.
    const corrected = await ok('POST', `/plans/${planId}/correct-follow-up`, { month: 12, reoffended: 'no', reason: 'new-information' });
    expect(corrected.followUps.find((f: Json) => f.month === 12).reoffended).toBe('no');
  });
});
