/**
 * Retention by default: six calendar years after a plan ends, leap days counted, not 6 × 365 days.
 * Over real HTTP on the simulated clock with the stack's default retention: a plan withdrawn now
 * still has her identity 2,190 days later (what 6 × 365 erased, a day or two early), and loses it
 * once six years have passed to the hour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths } from '../../lib/domain/calendar.ts';
import { DAY_MS, referralBody, SECRET_PARTICIPANT, startSecurityStack, type SecurityStack } from './support.ts';

const HOUR_MS = 3600_000;
let s: SecurityStack;

beforeAll(async () => {
  s = await startSecurityStack();
});
afterAll(async () => {
  await s?.stop();
});

describe('the default retention period', () => {
  let planId: string;
  let endedAt: string;

  it('starts when the plan ends', async () => {
    const referred = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
    expect(referred.status, referred.text).toBe(201);
    planId = referred.json.planId;
    const withdrawn = await s.call('POST', `/plans/${planId}/withdraw`, { token: s.coordinator, body: { reason: 'declined-support' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(withdrawn.json.stage).toBe('withdrawn');
    endedAt = withdrawn.json.updatedAt;
  });

  it('keeps her identity 6 × 365 days (and an hour) after the plan ended: six years hold a leap day', async () => {
    await s.advance(6 * 365 * DAY_MS + HOUR_MS, 90 * DAY_MS);
    const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
    expect(plan.json.identityErasedAt).toBeUndefined();
    expect(plan.json.participant).toMatchObject(SECRET_PARTICIPANT);
  });

  it('erases it once six calendar years have passed, and the audit record says "6 years"', async () => {
    const sixYears = addMonths(endedAt, 72);
    await s.advance(Date.parse(sixYears) - Date.parse(s.now()) + HOUR_MS);
    const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
    expect(plan.json.identityErasedAt).toBeDefined();
    expect(plan.json.identityErasedAt >= sixYears).toBe(true);
    expect(plan.json.participant).toBeUndefined();
    const to = s.today();
    const from = new Date(Date.parse(`${to}T12:00:00Z`) - 31 * DAY_MS).toISOString().slice(0, 10);
    const audit = await s.call('GET', `/audit?from=${from}&to=${to}&planId=${planId}`, { token: s.teamLead });
    expect(audit.status, audit.text).toBe(200);
    const anonymised = (audit.json.items as { action: string; why?: string }[]).filter((r) => r.action === 'anonymise');
    expect(anonymised).toHaveLength(1);
    expect(anonymised[0]?.why).toBe('retention period of 6 years after the plan ended');
  });
});
