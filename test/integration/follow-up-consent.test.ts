/**
 * Follow-ups and consent over real HTTP, with the embedded stack's simulated clock moved through
 * `POST /_local/clock/advance` (the sweeper runs on the way, so reminders and escalations fire):
 *  - consent withdrawn while a follow-up is awaited cancels the follow-ups and closes the plan: no
 *    escalation for it, no follow-up accepted (a 409 saying consent was withdrawn), none counted;
 *  - consent withdrawn during support closes the plan with no follow-up ever due;
 *  - a recorded follow-up is corrected with a coded reason, the earlier answer kept in the history,
 *    the figures following it; bad corrections are 400s naming the field and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { londonDate } from '../../lib/domain/calendar.ts';
import { anotherParticipant, consent, makeCall, referral, type AllocationJson, type Call, type HistoryItemJson, type Json } from '../support/http.ts';
import { firstOfQuarter, lastOfQuarter } from '../../lib/domain/metrics/dates.ts';

let stack: EmbeddedStack;
let call: Call;
const tokenOf = (role: string, providerId?: string) => stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId))!.token;
let coordinator: string;
let teamLead: string;
let commissioner: string;

beforeAll(async () => {
  stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    sweepIntervalMs: 0,
    clockMode: 'simulated',
    publisher: { publish: async () => undefined },
    // Exact figures, so one plan's follow-up shows in them.
    metrics: { suppressionThreshold: 1, roundCountsTo: 1 },
    webDistDir: false,
  });
  call = makeCall(stack.url);
  coordinator = tokenOf('coordinator');
  teamLead = tokenOf('team-lead');
  commissioner = tokenOf('commissioner');
});
afterAll(async () => {
  await stack?.stop();
});

async function ok(method: string, path: string, body?: unknown, token = coordinator): Promise<Json> {
  const res = await call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const advance = (days: number) => ok('POST', '/_local/clock/advance', { days, stepHours: 24 });
const today = () => londonDate(stack.clock.now());

/** Referred, consented, assessed, the offer accepted: an active plan. */
async function activePlan(): Promise<string> {
  const created = await ok('POST', '/plans', referral({ participant: anotherParticipant() }));
  const planId = created.planId as string;
  await ok('POST', `/plans/${planId}/record-consent`, consent(today()));
  const assessed = await ok('POST', `/plans/${planId}/submit-assessment`, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] });
  const offer = (assessed.allocations as AllocationJson[]).find((a) => a.status === 'offered')!;
  await ok('POST', `/allocations/${offer.allocationId}/accept`, {}, tokenOf('provider', offer.providerId));
  return planId;
}

const history = async (planId: string): Promise<HistoryItemJson[]> => (await ok('GET', `/plans/${planId}/history`)).items;
const escalatedPlans = async (): Promise<Json[]> => (await ok('GET', '/escalations', undefined, teamLead)).items;

describe('follow-ups and consent, with the clock moved', () => {
  let awaited: string;
  let corrected: string;
  let duringSupport: string;

  it('consent withdrawn while the 12-month follow-up is awaited: follow-ups cancelled, plan closed, no escalation, no follow-up accepted', async () => {
    awaited = await activePlan();
    duringSupport = await activePlan();
    await ok('POST', `/plans/${awaited}/exit`, { reason: 'completed' });

    // 200 days on: both 6-month follow-ups reminded, then escalated to the team lead.
    await advance(200);
    const escalated = await escalatedPlans();
    expect(escalated.find((p) => p.planId === awaited)?.escalations.map((e: Json) => e.kind)).toContain('follow-up-due:6');
    await ok('POST', `/plans/${awaited}/record-follow-up`, { month: 6, reoffended: 'yes' });

    const withdrawn = await ok('POST', `/plans/${awaited}/withdraw-consent`, { note: 'Does not want to be asked again.' });
    expect(withdrawn.stage).toBe('closed');
    expect(withdrawn.deadlines).toEqual([]);
    expect(withdrawn.openEscalations).toEqual([]);
    expect(withdrawn.exit.reason).toBe('completed');
    expect(withdrawn.consent.withdrawnAt).toBe(stack.clock.now());
    const cancelled = (await history(awaited)).filter((e) => e.type === 'plan.follow-ups-cancelled.v1');
    expect(cancelled.map((e) => e.data)).toEqual([{ planRef: awaited, months: [12], reason: 'consent-withdrawn' }]);

    // Another 200 days: nothing is reminded or escalated about her.
    const before = (await history(awaited)).length;
    await advance(200);
    expect((await history(awaited)).length).toBe(before);
    expect((await escalatedPlans()).map((p) => p.planId)).not.toContain(awaited);

    for (const [command, body] of [
      ['record-follow-up', { month: 12, reoffended: 'yes' }],
      ['correct-follow-up', { month: 6, reoffended: 'no', reason: 'keyed-in-error' }],
    ] as const) {
      const refused = await call('POST', `/plans/${awaited}/${command}`, { token: coordinator, body });
      expect(refused.status, command).toBe(409);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.json.detail).toContain('consent was withdrawn');
    }
    expect((await ok('GET', `/plans/${awaited}`)).version).toBe(withdrawn.version);
  });

  it('consent withdrawn during support: the plan closes with no follow-up ever due', async () => {
    // Exited here, 200 days before its follow-ups are recorded and corrected below: exited at the start, 600
    // days on its follow-ups would have lapsed (recorded unknown and closed, FOLLOW_UPS_LAPSE_MONTHS).
    corrected = await activePlan();
    await ok('POST', `/plans/${corrected}/exit`, { reason: 'completed' });
    const closed = await ok('POST', `/plans/${duringSupport}/withdraw-consent`, {});
    expect(closed).toMatchObject({ stage: 'closed', deadlines: [], openEscalations: [], exit: { reason: 'consent-withdrawn' } });
    const before = (await history(duringSupport)).length;
    await advance(200);
    const items = await history(duringSupport);
    expect(items.length).toBe(before);
    expect(items.filter((e) => e.type.startsWith('follow-up.'))).toEqual([]);
    const refused = await call('POST', `/plans/${duringSupport}/record-follow-up`, { token: coordinator, body: { month: 6, reoffended: 'no' } });
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toContain('consent was withdrawn');
  });

  it('a recorded follow-up is corrected with a reason; the earlier answer stays in the history; the figures follow; bad corrections are 400s naming the field', async () => {
    const figures = async () => {
      // Whole quarters, up to the last complete one (the exit, over six months ago, is in it).
      const to = lastOfQuarter(today());
      const res = await ok('GET', `/metrics?from=${firstOfQuarter(`${Number(to.slice(0, 4)) - 2}${to.slice(4)}`)}&to=${to}`, undefined, commissioner);
      return { known: res.overall.followUps6, reoffended: res.overall.reoffended6 };
    };
    // The other plan's 6-month "yes", given before she withdrew her consent, is not counted: none known
    // yet (a 0 reads as suppressed: it is below every threshold).
    expect(await figures()).toEqual({ known: 'suppressed', reoffended: 'suppressed' });
    const six = await ok('POST', `/plans/${corrected}/record-follow-up`, { month: 6, reoffended: 'yes' });
    expect(await figures()).toEqual({ known: 1, reoffended: 1 });

    for (const [body, field] of [
      [{ month: 6, reoffended: 'no' }, 'reason'],
      [{ month: 6, reoffended: 'no', reason: 'she-said-so' }, 'reason'],
      [{ month: 12, reoffended: 'no', reason: 'keyed-in-error' }, 'month'],
      [{ month: 6, reoffended: 'yes', reason: 'keyed-in-error' }, 'reoffended'],
      [{ month: 6, reoffended: 'no', reason: 'keyed-in-error', note: '' }, 'note'],
    ] as const) {
      const res = await call('POST', `/plans/${corrected}/correct-follow-up`, { token: coordinator, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.errors.map((e: Json) => e.path)).toEqual([field]);
    }
    expect((await ok('GET', `/plans/${corrected}`)).version).toBe(six.version);

    const fixed = await ok('POST', `/plans/${corrected}/correct-follow-up`, { month: 6, reoffended: 'no', reason: 'keyed-in-error', note: 'Ticked the wrong box.' });
    expect(fixed.stage).toBe('exited');
    expect(fixed.followUps).toEqual([
      { month: 6, reoffended: 'no', recordedAt: six.followUps[0].recordedAt, corrections: [{ previous: 'yes', reason: 'keyed-in-error', note: 'Ticked the wrong box.', at: stack.clock.now() }] },
    ]);
    const items = await history(corrected);
    expect(items.filter((e) => e.type.startsWith('follow-up.') && e.type !== 'follow-up.due.v1').map((e) => [e.type, e.data])).toEqual([
      ['follow-up.recorded.v1', { planRef: corrected, month: 6, reoffended: 'yes' }],
      ['follow-up.corrected.v1', { planRef: corrected, month: 6, previous: 'yes', reoffended: 'no', reason: 'keyed-in-error' }],
    ]);
    expect(JSON.stringify(items)).not.toContain('wrong box');
    expect(await figures()).toEqual({ known: 1, reoffended: 'suppressed' });

    // The 12-month follow-up closes the plan; it can still be corrected there.
    await advance(190);
    const closed = await ok('POST', `/plans/${corrected}/record-follow-up`, { month: 12, reoffended: 'no' });
    expect(closed.stage).toBe('closed');
    const after = await ok('POST', `/plans/${corrected}/correct-follow-up`, { month: 12, reoffended: 'yes', reason: 'source-corrected' });
    expect(after.stage).toBe('closed');
    expect(after.followUps.find((f: Json) => f.month === 12)).toMatchObject({ reoffended: 'yes', corrections: [{ previous: 'no', reason: 'source-corrected' }] });
  });
});
