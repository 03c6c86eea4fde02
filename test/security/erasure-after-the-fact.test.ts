/**
 * What happens to a plan after her identity is erased, over real HTTP on the embedded stack (dynalite):
 * - a command on the erased plan cannot bring new free text to it: correct-follow-up's `note` is a 400
 *   naming the field and the rule, changing nothing, and the same correction without it is made;
 * - plans erased or anonymised the way releases before 2026-11-28 did (marked, their free text kept)
 *   are redacted by the sweeper's bounded pass, once: a second run, or the pass started over, changes
 *   nothing; a plan that changes stage while the pass walks, even back to a stage the stage-by-stage
 *   walk of the release before had already passed, is redacted too;
 * - a closed plan's retention period counts from when it closed, not from a later follow-up correction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { REDACTED } from '../../lib/domain/redaction.ts';
import { redactErasedPlans } from '../../functions/sweeper/erased-redaction.ts';
import { DAY_MS, referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

const HOUR_MS = 3_600_000;
const MONTH_MS = 31 * DAY_MS;

const consent = (s: SecurityStack) => ({ scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' });

async function ok(s: SecurityStack, method: string, path: string, body: unknown) {
  const res = await s.call(method, path, { token: s.coordinator, body });
  if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

/** Which of `words` are anywhere in the table but the audit log (plan items unzipped, history, kept answers). */
async function storedWords(s: SecurityStack, words: readonly string[]) {
  const text = JSON.stringify(await scanTable(s.stack));
  return words.filter((w) => text.includes(w));
}

describe('a follow-up correction on a plan whose identity was erased', () => {
  let s: SecurityStack;
  let planId: string;
  const NOTE = 'Her probation officer Marrowdeane rang back';

  beforeAll(async () => {
    s = await startSecurityStack();
    planId = (await ok(s, 'POST', '/plans', referralBody(secretParticipant()))).planId;
    await ok(s, 'POST', `/plans/${planId}/record-consent`, consent(s));
    await ok(s, 'POST', `/plans/${planId}/exit`, { reason: 'completed' });
    await s.advance(7 * MONTH_MS);
    await ok(s, 'POST', `/plans/${planId}/record-follow-up`, { month: 6, reoffended: 'yes' });
    // Erased while its 12-month follow-up was to come, as a release before 2026-11-29 allowed (an erasure
    // request now waits for it: erasure-follow-ups.test.ts): her identity gone and the plan marked, as that
    // erasure left it. Still exited: its 12-month timer would close it (decide.ts), not yet due.
    const exited = (await s.stack.plans.getPlan(planId))!;
    await s.stack.plans.deleteIdentity(exited.participantId);
    await s.stack.plans.markIdentityErased(planId, s.now());
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('refuses a note with a 400 naming it and why, changing nothing', async () => {
    const before = await scanTable(s.stack);
    const res = await s.call('POST', `/plans/${planId}/correct-follow-up`, { token: s.coordinator, body: { month: 6, reoffended: 'no', reason: 'keyed-in-error', note: NOTE } });
    expect(res.status, res.text).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const erasedOn = (await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json.identityErasedAt.slice(0, 10);
    expect(res.json.errors).toEqual([{ path: 'note', message: `her identity was erased on ${erasedOn}: notes are not kept on her plans; send it without note` }]);
    expect(await scanTable(s.stack)).toEqual(before);
  });

  it('corrects the answer without the note, and her words are in no stored item', async () => {
    const corrected = await ok(s, 'POST', `/plans/${planId}/correct-follow-up`, { month: 6, reoffended: 'no', reason: 'keyed-in-error' });
    expect(corrected.followUps[0]).toMatchObject({ month: 6, reoffended: 'no', corrections: [{ previous: 'yes', reason: 'keyed-in-error' }] });
    expect(corrected.followUps[0].corrections[0].note).toBeUndefined();
    expect(await storedWords(s, [NOTE, 'Marrowdeane'])).toEqual([]);
  });

  it('refuses withdraw-consent\'s note the same way (the other command of an exited plan with free text)', async () => {
    const res = await s.call('POST', `/plans/${planId}/withdraw-consent`, { token: s.coordinator, body: { note: 'She said Thornquistle' } });
    expect(res.status, res.text).toBe(400);
    expect(res.json.errors[0].path).toBe('note');
    expect((await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json.stage).toBe('exited');
  });
});

describe('plans erased before free text went with her identity', () => {
  let s: SecurityStack;
  const WORDS = { referralNote: 'Gillyflowerton', exitNote: 'Brackenholme', withdrawalNote: 'Quoddingley' } as const;
  const words = Object.values(WORDS);
  let exited: string;
  let withdrawn: string;
  let untouched: string;

  beforeAll(async () => {
    s = await startSecurityStack();
    const referral = referralBody(secretParticipant());
    exited = (await ok(s, 'POST', '/plans', { ...referral, referral: { ...referral.referral, note: `Came in with ${WORDS.referralNote}` } })).planId;
    await ok(s, 'POST', `/plans/${exited}/record-consent`, consent(s));
    await ok(s, 'POST', `/plans/${exited}/exit`, { reason: 'completed', note: `Moving to ${WORDS.exitNote}` });
    withdrawn = (await ok(s, 'POST', '/plans', referralBody(secretParticipant()))).planId;
    await ok(s, 'POST', `/plans/${withdrawn}/withdraw`, { reason: 'declined-support', note: `Lives near ${WORDS.withdrawalNote}` });
    // A plan never erased keeps what was typed on it.
    untouched = (await ok(s, 'POST', '/plans', { ...referral, participant: secretParticipant(), referral: { ...referral.referral, note: 'Keeps Haverstrode' } })).planId;
    // The way erasure and anonymisation worked before: identity gone, the plan marked, its free text kept.
    for (const planId of [exited, withdrawn]) {
      const plan = (await s.stack.plans.getPlan(planId))!;
      await s.stack.plans.deleteIdentity(plan.participantId);
      await s.stack.plans.markIdentityErased(planId, s.now());
    }
    expect(await storedWords(s, words)).toEqual(words);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('are redacted by the next sweep: plan, history and kept answers; the marker says the pass is done', async () => {
    const report = await s.stack.sweep();
    expect(report.erasedPlansRedacted).toBe(2);
    expect(await storedWords(s, words)).toEqual([]);
    const plan = (await s.call('GET', `/plans/${exited}`, { token: s.coordinator })).json;
    expect(plan.referral.note).toBe(REDACTED);
    expect(plan.exit).toMatchObject({ reason: 'completed', note: REDACTED });
    expect((await s.call('GET', `/plans/${withdrawn}`, { token: s.coordinator })).json.withdrawal).toMatchObject({ reason: 'declined-support', note: REDACTED });
    expect((await s.call('GET', `/plans/${untouched}`, { token: s.coordinator })).json.referral.note).toBe('Keeps Haverstrode');
    const marker = (await s.stack.plans.client.send(new GetCommand({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() }))).Item;
    expect(marker).toMatchObject({ walk: 'table', done: true, redacted: 2, doneAt: s.now() });
  });

  it('changes nothing when run again, or started over from the beginning', async () => {
    const before = await scanTable(s.stack);
    expect((await s.stack.sweep()).erasedPlansRedacted).toBe(0);
    expect(await scanTable(s.stack)).toEqual(before);
    await s.stack.plans.client.send(new DeleteCommand({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() }));
    const again = await redactErasedPlans({ plans: s.stack.plans }, s.now());
    expect(again).toMatchObject({ examined: 2, redacted: 0, finished: true });
    const after = (await scanTable(s.stack)).filter((i) => i.pk !== keys.erasedRedactionMarker().pk);
    expect(after).toEqual(before.filter((i) => i.pk !== keys.erasedRedactionMarker().pk));
  });

  it('reads a bounded number of items per run, and finishes over several', async () => {
    await s.stack.plans.client.send(new DeleteCommand({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() }));
    const runs = [];
    for (let run = 0; run < 1000; run += 1) {
      const report = await redactErasedPlans({ plans: s.stack.plans }, s.now(), { pageSize: 2, maxItems: 5 });
      runs.push(report);
      if (report.finished) break;
    }
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.every((r) => r.scanned <= 5)).toBe(true);
    expect(runs.reduce((sum, r) => sum + r.examined, 0)).toBe(2);
    expect(runs.at(-1)?.finished).toBe(true);
  });
});

describe('an erased plan changed while the pass walks', () => {
  let s: SecurityStack;
  const WORDS = ['Wendlebury', 'Craxtonleigh'] as const;
  const plans: string[] = [];

  beforeAll(async () => {
    s = await startSecurityStack();
    const referral = referralBody(secretParticipant());
    for (const word of WORDS) {
      const planId = (await ok(s, 'POST', '/plans', { ...referral, participant: secretParticipant() })).planId;
      await ok(s, 'POST', `/plans/${planId}/record-consent`, consent(s));
      await ok(s, 'POST', `/plans/${planId}/exit`, { reason: 'completed', note: `Moving to ${word}` });
      plans.push(planId);
    }
    // Past the 6-month follow-up: the sweeps on the way walk the (then unerased) plans; the pass starts over below.
    await s.advance(7 * MONTH_MS);
    await s.stack.plans.client.send(new DeleteCommand({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() }));
    for (const planId of plans) {
      const plan = (await s.stack.plans.getPlan(planId))!;
      await s.stack.plans.deleteIdentity(plan.participantId);
      await s.stack.plans.markIdentityErased(planId, s.now());
    }
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('is still redacted: the plan not yet walked gets a follow-up recorded between two runs', async () => {
    // One item a run, until one of the two plans is walked and the other not.
    let left = await storedWords(s, WORDS);
    for (let run = 0; run < 1000 && left.length === WORDS.length; run += 1) {
      await redactErasedPlans({ plans: s.stack.plans }, s.now(), { pageSize: 1, maxItems: 1 });
      left = await storedWords(s, WORDS);
    }
    expect(left).toHaveLength(1);
    const notWalked = plans[WORDS.indexOf(left[0] as (typeof WORDS)[number])] as string;
    await ok(s, 'POST', `/plans/${notWalked}/record-follow-up`, { month: 6, reoffended: 'no' });
    for (let run = 0; run < 1000; run += 1) if ((await redactErasedPlans({ plans: s.stack.plans }, s.now(), { pageSize: 1, maxItems: 1 })).finished) break;
    expect(await storedWords(s, WORDS)).toEqual([]);
    expect((await s.call('GET', `/plans/${notWalked}`, { token: s.coordinator })).json.followUps[0]).toMatchObject({ month: 6, reoffended: 'no' });
  });
});

describe('an erased plan that moves back to a stage the pass has walked (active to allocating)', () => {
  let s: SecurityStack;
  /** One made-up word per plan: its referral note, its goal and its provider's note at acceptance. */
  const WORDS = ['Quarrendell', 'Ospreyholme'] as const;
  const plans: { planId: string }[] = [];
  const markerKey = () => ({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() });

  /** A review adjusts her plan with a new priority need, which goes to allocation: the plan is back in 'allocating'. */
  async function moveBack(plan: (typeof plans)[number]) {
    const adjusted = await s.call('POST', `/plans/${plan.planId}/record-review`, {
      token: s.coordinator,
      body: { scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'accommodation', level: 'high', priority: true }] },
    });
    expect(adjusted.status, adjusted.text).toBe(200);
    expect((await s.call('GET', `/plans/${plan.planId}`, { token: s.coordinator })).json.stage).toBe('allocating');
  }
  const runToTheEnd = async () => {
    for (let run = 0; run < 100; run += 1) if ((await redactErasedPlans({ plans: s.stack.plans }, s.now())).finished) return;
    throw new Error('the pass did not finish');
  };

  beforeAll(async () => {
    s = await startSecurityStack();
    for (const word of WORDS) {
      const referral = referralBody(secretParticipant());
      const planId = (await ok(s, 'POST', '/plans', { ...referral, referral: { ...referral.referral, note: `Came with ${word}` } })).planId;
      await ok(s, 'POST', `/plans/${planId}/record-consent`, consent(s));
      const assessed = await ok(s, 'POST', `/plans/${planId}/submit-assessment`, { needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: [`See ${word} again`] }] });
      const offer = (assessed.allocations as { allocationId: string; providerId: string; status: string }[]).find((a) => a.status === 'offered');
      if (!offer) throw new Error(`no offer: ${JSON.stringify(assessed)}`);
      const provider = s.provider(offer.providerId);
      const accepted = await s.call('POST', `/allocations/${offer.allocationId}/accept`, { token: provider, body: { note: `Meeting at ${word}` } });
      expect(accepted.status, accepted.text).toBe(200);
      expect((await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json.stage).toBe('active');
      plans.push({ planId });
    }
    // Erased the way releases before 2026-11-28 did, while active (allowed then): identity gone, her words kept.
    for (const { planId } of plans) {
      const plan = (await s.stack.plans.getPlan(planId))!;
      await s.stack.plans.deleteIdentity(plan.participantId);
      await s.stack.plans.markIdentityErased(planId, s.now());
    }
    expect(await storedWords(s, WORDS)).toEqual(WORDS);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("is redacted after the stage-by-stage walk of the release before had passed 'allocating' when it moved", async () => {
    const [plan] = plans;
    // The older pass's marker once it had walked 'allocating' (and every stage before): at 'active', none of it read yet.
    await s.stack.plans.client.send(new PutCommand({ ...markerKey(), Item: { ...keys.erasedRedactionMarker(), stage: 'active', examined: 4, redacted: 0, step: 3, startedAt: s.now() } }));
    await moveBack(plan!);
    await runToTheEnd();
    expect(await storedWords(s, [WORDS[0]])).toEqual([]);
    const redacted = (await s.call('GET', `/plans/${plan!.planId}`, { token: s.coordinator })).json;
    expect(redacted.referral.note).toBe(REDACTED);
    expect(redacted.needs[0].goals).toEqual([REDACTED]);
  });

  it('is redacted when it moves while the walk is part-way, its key just ahead of the cursor', async () => {
    const plan = plans[1]!;
    // The walk has read every item before this plan's: its cursor is the key just before the plan item.
    const order: { pk: unknown; sk: unknown }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await s.stack.plans.client.send(new ScanCommand({ TableName: s.stack.plans.tableName, ProjectionExpression: 'pk, sk', ExclusiveStartKey: start }));
      order.push(...((page.Items ?? []) as { pk: unknown; sk: unknown }[]));
      start = page.LastEvaluatedKey;
    } while (start);
    const at = order.findIndex((item) => item.pk === keys.plan(plan.planId).pk && item.sk === keys.plan(plan.planId).sk);
    expect(at).toBeGreaterThanOrEqual(0);
    const cursor = at > 0 ? { cursor: order[at - 1] } : {};
    const step = ((await s.stack.plans.client.send(new GetCommand(markerKey()))).Item?.step as number) + 1;
    await s.stack.plans.client.send(new PutCommand({ ...markerKey(), Item: { ...keys.erasedRedactionMarker(), walk: 'table', done: false, ...cursor, scanned: at, examined: 0, redacted: 0, step, startedAt: s.now() } }));
    await moveBack(plan);
    await runToTheEnd();
    expect(await storedWords(s, WORDS)).toEqual([]);
  });
});

describe("a closed plan's retention period", () => {
  const RETENTION_DAYS = 30;
  let s: SecurityStack;
  let planId: string;
  let closedAt: string;
  const advanceTo = async (iso: string) => s.advance(Math.max(1, Date.parse(iso) - Date.parse(s.now())), HOUR_MS);

  beforeAll(async () => {
    s = await startSecurityStack({ retentionDays: RETENTION_DAYS });
    planId = (await ok(s, 'POST', '/plans', referralBody(secretParticipant()))).planId;
    await ok(s, 'POST', `/plans/${planId}/record-consent`, consent(s));
    await ok(s, 'POST', `/plans/${planId}/exit`, { reason: 'completed' });
    await s.advance(7 * MONTH_MS);
    await ok(s, 'POST', `/plans/${planId}/record-follow-up`, { month: 6, reoffended: 'no' });
    await s.advance(6 * MONTH_MS);
    const closed = await ok(s, 'POST', `/plans/${planId}/record-follow-up`, { month: 12, reoffended: 'yes' });
    expect(closed.stage).toBe('closed');
    closedAt = closed.closedAt;
    // Ten days after it closed, a mis-keyed answer is corrected: the plan changes, its closure does not.
    await s.advance(10 * DAY_MS);
    await ok(s, 'POST', `/plans/${planId}/correct-follow-up`, { month: 12, reoffended: 'no', reason: 'source-corrected' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('counts from when it closed, not from the correction: anonymised an hour after closure plus the period', async () => {
    await advanceTo(new Date(Date.parse(closedAt) + RETENTION_DAYS * DAY_MS - HOUR_MS).toISOString());
    expect((await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json.identityErasedAt).toBeUndefined();
    await s.advance(2 * HOUR_MS, HOUR_MS);
    const plan = (await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json;
    expect(plan.identityErasedAt).toBeDefined();
    expect(plan.participant).toBeUndefined();
    expect(plan.followUps[1]).toMatchObject({ month: 12, reoffended: 'no' });
  });
});
