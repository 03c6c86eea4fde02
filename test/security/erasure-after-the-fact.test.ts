/**
 * What happens to a plan after her identity is erased, over real HTTP on the embedded stack (dynalite):
 * - a command on the erased plan cannot bring new free text to it: correct-follow-up's `note` is a 400
 *   naming the field and the rule, changing nothing, and the same correction without it is made;
 * - plans erased or anonymised the way releases before 2026-11-28 did (marked, their free text kept)
 *   are redacted by the sweeper's bounded pass, once: a second run, or the pass started over, changes
 *   nothing;
 * - a closed plan's retention period counts from when it closed, not from a later follow-up correction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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
    await ok(s, 'POST', `/plans/${planId}/erase-identity`, { reason: 'her-request' });
    await s.advance(7 * MONTH_MS);
    await ok(s, 'POST', `/plans/${planId}/record-follow-up`, { month: 6, reoffended: 'yes' });
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
    expect(marker).toMatchObject({ stage: 'done', redacted: 2, doneAt: s.now() });
  });

  it('changes nothing when run again, or started over from the beginning', async () => {
    const before = await scanTable(s.stack);
    expect((await s.stack.sweep()).erasedPlansRedacted).toBe(0);
    expect(await scanTable(s.stack)).toEqual(before);
    await s.stack.plans.client.send(new DeleteCommand({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() }));
    const again = await redactErasedPlans({ plans: s.stack.plans }, s.now());
    expect(again).toEqual({ examined: 3, redacted: 0, finished: true });
    const after = (await scanTable(s.stack)).filter((i) => i.pk !== keys.erasedRedactionMarker().pk);
    expect(after).toEqual(before.filter((i) => i.pk !== keys.erasedRedactionMarker().pk));
  });

  it('walks a bounded number of plans per run, and finishes over several', async () => {
    await s.stack.plans.client.send(new DeleteCommand({ TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() }));
    const runs = [];
    for (let run = 0; run < 20; run += 1) {
      const report = await redactErasedPlans({ plans: s.stack.plans }, s.now(), { pageSize: 1, maxPlans: 1 });
      runs.push(report);
      if (report.finished) break;
    }
    expect(runs.every((r) => r.examined <= 1)).toBe(true);
    expect(runs.reduce((sum, r) => sum + r.examined, 0)).toBe(3);
    expect(runs.at(-1)?.finished).toBe(true);
  });
});

describe('an erased plan changed while the pass walks its stage', () => {
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
    const first = await redactErasedPlans({ plans: s.stack.plans }, s.now(), { pageSize: 1, maxPlans: 1 });
    expect(first).toMatchObject({ examined: 1, redacted: 1, finished: false });
    const left = await storedWords(s, WORDS);
    expect(left).toHaveLength(1);
    const notWalked = plans[WORDS.indexOf(left[0] as (typeof WORDS)[number])] as string;
    // An hour on, so the follow-up changes the plan later than the walked one; the sweeps of that hour
    // find the pass done (its position is put back after), so only the runs below walk.
    const markerKey = { TableName: s.stack.plans.tableName, Key: keys.erasedRedactionMarker() };
    const position = (await s.stack.plans.client.send(new GetCommand(markerKey))).Item;
    await s.stack.plans.client.send(new PutCommand({ TableName: s.stack.plans.tableName, Item: { ...position, stage: 'done' } }));
    await s.advance(HOUR_MS);
    await s.stack.plans.client.send(new PutCommand({ TableName: s.stack.plans.tableName, Item: position }));
    await ok(s, 'POST', `/plans/${notWalked}/record-follow-up`, { month: 6, reoffended: 'no' });
    for (let run = 0; run < 20; run += 1) if ((await redactErasedPlans({ plans: s.stack.plans }, s.now(), { pageSize: 1, maxPlans: 1 })).finished) break;
    expect(await storedWords(s, WORDS)).toEqual([]);
    expect((await s.call('GET', `/plans/${notWalked}`, { token: s.coordinator })).json.followUps[0]).toMatchObject({ month: 6, reoffended: 'no' });
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
