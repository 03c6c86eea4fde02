/**
 * Erasure on request (POST /plans/{id}/erase-identity) and anonymisation by the sweeper after the
 * retention period, over real HTTP on the simulated clock: the identity goes (the identity item
 * and the keyed person link with it), the pseudonymous plan and the figures stay, and each
 * erasure is in the audit log with who and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import { DAY_MS, referralBody, scanTable, SECRET_PARTICIPANT, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';
import { ERASURE_REASONS } from '../../lib/domain/vocabulary.ts';
import { REDACTED } from '../../lib/domain/redaction.ts';

const RETENTION_DAYS = 30;
const HOUR_MS = 3600_000;
let s: SecurityStack;

beforeAll(async () => {
  s = await startSecurityStack({ retentionDays: RETENTION_DAYS });
});
afterAll(async () => {
  await s?.stop();
});

async function refer(participant = secretParticipant()) {
  const res = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });
  if (res.status !== 201) throw new Error(`refer: ${res.status} ${res.text}`);
  return { planId: res.json.planId as string, participantId: res.json.participantId as string, participant };
}

async function command(planId: string, segment: string, body: unknown) {
  const res = await s.call('POST', `/plans/${planId}/${segment}`, { token: s.coordinator, body });
  if (res.status !== 200) throw new Error(`${segment}: ${res.status} ${res.text}`);
  return res.json;
}

/**
 * The secret participant with contact details and an address no one else in this file has, so a
 * search of the whole table (audit log included) for them finds her record and nothing else.
 */
function withOwnContact(tag: string) {
  const digits = String([...tag].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 1_000_000, 7)).padStart(6, '0');
  const contact = { phone: `07700 ${digits}`, email: `${tag.toLowerCase()}@erasure.example`, addressLine: `${digits.slice(0, 2)} ${tag} Lane`, postcode: `B${digits.slice(0, 2)} 9QX` };
  const base = secretParticipant();
  return {
    contact,
    participant: { ...base, contact: { ...base.contact, phone: contact.phone, email: contact.email }, address: { lines: [contact.addressLine], postcode: contact.postcode } },
  };
}

/** Which of `values` appear anywhere in the table, audit records included. */
async function tableMentions(values: readonly string[]): Promise<string[]> {
  const text = JSON.stringify(await scanTable(s.stack, { withAudit: true }));
  return values.filter((v) => text.includes(v));
}

const consent = () => ({ scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' });

/** What the table holds about a participant: her identity item, and the keyed person link naming her id. */
async function storedIdentity(participantId: string) {
  const items = await scanTable(s.stack);
  return {
    identity: items.filter((i) => i.pk === `PARTICIPANT#${participantId}`),
    person: items.filter((i) => String(i.pk).startsWith('PERSON#') && i.participantId === participantId),
  };
}

async function auditOf(planId: string): Promise<AuditRecord[]> {
  const to = s.today();
  const from = new Date(Date.parse(`${to}T12:00:00Z`) - 31 * DAY_MS).toISOString().slice(0, 10);
  const res = await s.call('GET', `/audit?from=${from}&to=${to}&planId=${planId}`, { token: s.teamLead });
  expect(res.status).toBe(200);
  return (res.json.items as AuditRecord[]).filter((r) => r.action !== 'read-audit');
}

/**
 * What the figures are made of: every plan's metric facts, as the metrics index holds them. The API answers
 * only whole, complete quarters (commissioner metrics), which these plans, made today, are in none of; so
 * the facts themselves are compared, which any figure of any period is computed from.
 */
const figures = async () => {
  await s.stack.metrics.settled();
  const { facts } = await s.stack.metrics.snapshot();
  return [...facts].map((f) => JSON.stringify(f)).sort();
};

describe('erasure on request', () => {
  let plan: { planId: string; participantId: string };
  const her = withOwnContact('Larkspurrow');

  beforeAll(async () => {
    plan = await refer(her.participant);
    await command(plan.planId, 'record-consent', consent());
    await command(plan.planId, 'submit-assessment', { needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: ['sleep better'] }] });
    // Erasure waits until no plan of hers is open (erasure-open-plans-and-free-text.test.ts).
    await command(plan.planId, 'exit', { reason: 'disengaged' });
  });

  it('is for coordinators only: providers, team leads and commissioners get 403, and nothing is erased', async () => {
    for (const token of [s.provider('anawim'), s.provider('bcwa'), s.teamLead, s.commissioner]) {
      const res = await s.call('POST', `/plans/${plan.planId}/erase-identity`, { token, body: { reason: 'her-request' } });
      expect(res.status).toBe(403);
    }
    expect((await s.call('POST', `/plans/${plan.planId}/erase-identity`, { body: { reason: 'her-request' } })).status).toBe(401);
    expect((await storedIdentity(plan.participantId)).identity).toHaveLength(1);
  });

  it('refuses a request without a reason code (400, naming the codes) or for an unknown plan (404)', async () => {
    for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 'her-request', extra: true }, { reason: 'HER-REQUEST' }])
      expect((await s.call('POST', `/plans/${plan.planId}/erase-identity`, { token: s.coordinator, body })).status, JSON.stringify(body).slice(0, 40)).toBe(400);
    // Free text, which would stay in the append-only audit log after the erasure it records, is refused.
    const freeText = await s.call('POST', `/plans/${plan.planId}/erase-identity`, { token: s.coordinator, body: { reason: `${SECRET_PARTICIPANT.familyName} asked on the phone` } });
    expect(freeText.status).toBe(400);
    expect(freeText.headers.get('content-type')).toBe('application/problem+json');
    expect(freeText.json.errors).toEqual([{ path: 'reason', message: `must be one of ${ERASURE_REASONS.join(', ')}` }]);
    expect(JSON.stringify(await auditOf(plan.planId))).not.toContain(SECRET_PARTICIPANT.familyName);
    expect((await s.call('POST', '/plans/pl_000000000000000000000000/erase-identity', { token: s.coordinator, body: { reason: 'her-request' } })).status).toBe(404);
    expect((await storedIdentity(plan.participantId)).identity).toHaveLength(1);
  });

  it('erases the identity, keeps the plan and the figures, and records who and why', async () => {
    const before = await s.call('GET', `/plans/${plan.planId}`, { token: s.coordinator });
    expect(before.json.participant).toMatchObject(SECRET_PARTICIPANT);
    const stored = await storedIdentity(plan.participantId);
    expect(stored.identity).toHaveLength(1);
    expect(stored.person).toHaveLength(1);
    // Her contact details and address are held (in her identity record only), and a correction adds to them.
    expect(await tableMentions(Object.values(her.contact))).toEqual(Object.values(her.contact));
    const movedTo = { lines: ['3 Larkspurrow Mews'], postcode: 'B98 7QX' };
    const corrected = await s.call('PATCH', `/plans/${plan.planId}/participant`, { token: s.coordinator, body: { address: movedTo } });
    expect(corrected.status, corrected.text).toBe(200);
    expect(corrected.json.participant.address).toEqual(movedTo);
    // Nor while it waits for its follow-ups (erasure-follow-ups.test.ts): she asked to be forgotten, so her consent is withdrawn.
    await command(plan.planId, 'withdraw-consent', {});
    const beforeErasure = await s.call('GET', `/plans/${plan.planId}`, { token: s.coordinator });
    const figuresBefore = await figures();

    const reason = 'her-request';
    const res = await s.call('POST', `/plans/${plan.planId}/erase-identity`, { token: s.coordinator, body: { reason } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ planId: plan.planId, identityErasedAt: s.now() });

    const after = await s.call('GET', `/plans/${plan.planId}`, { token: s.coordinator });
    expect(after.status).toBe(200);
    expect(after.json.participant).toBeUndefined();
    expect(after.json.identityErasedAt).toBe(s.now());
    expect(after.text).not.toContain(SECRET_PARTICIPANT.familyName);
    // The pseudonymous plan is all there: stage, needs, allocations, version; the goal typed in words is replaced.
    const { identityErasedAt: _erased, participant: _participant, ...kept } = after.json as Record<string, unknown>;
    const { participant: _was, participantRevision: _revision, ...was } = beforeErasure.json as Record<string, unknown>;
    expect(kept).toEqual({ ...was, needs: (was.needs as { goals: string[] }[]).map((n) => ({ ...n, goals: n.goals.map(() => REDACTED) })) });
    expect(await storedIdentity(plan.participantId)).toEqual({ identity: [], person: [] });
    // Phone, email, the old and the corrected address: gone from the whole table.
    expect(await tableMentions([...Object.values(her.contact), ...movedTo.lines, movedTo.postcode])).toEqual([]);
    expect(await figures()).toEqual(figuresBefore);
    // Nothing is left to correct.
    expect((await s.call('PATCH', `/plans/${plan.planId}/participant`, { token: s.coordinator, body: { address: movedTo } })).status).toBe(409);

    const records = (await auditOf(plan.planId)).filter((r) => r.action === 'erase-identity');
    expect(records).toEqual([expect.objectContaining({ who: 'demo-coordinator', role: 'coordinator', action: 'erase-identity', planId: plan.planId, participantId: plan.participantId, why: reason, at: s.now() })]);
  });

  it('answers a second request with 409 and writes nothing more', async () => {
    const res = await s.call('POST', `/plans/${plan.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(res.status).toBe(409);
    expect((await auditOf(plan.planId)).filter((r) => r.action === 'erase-identity')).toHaveLength(1);
  });

  it("erases a woman's identity from every plan of hers, and marks them all, once none is open", async () => {
    const first = await refer();
    await command(first.planId, 'withdraw', { reason: 'unreachable' });
    const second = await refer(first.participant);
    expect(second.participantId).toBe(first.participantId);
    const refused = await s.call('POST', `/plans/${first.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toContain(second.planId);
    expect((await storedIdentity(first.participantId)).identity).toHaveLength(1);
    await command(second.planId, 'withdraw', { reason: 'declined-support' });
    const res = await s.call('POST', `/plans/${first.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(res.status).toBe(200);
    for (const planId of [first.planId, second.planId]) {
      const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
      expect(plan.json.participant, planId).toBeUndefined();
      expect(plan.json.identityErasedAt, planId).toBe(s.now());
    }
    expect(await storedIdentity(first.participantId)).toEqual({ identity: [], person: [] });
  });
});

describe('anonymisation after the retention period, by the sweeper', () => {
  /** Closed a year after the start; closed 20 days after that; never closed; withdrawn, then the same woman referred again. */
  let closedFirst: { planId: string; participantId: string };
  let closedLater: { planId: string; participantId: string };
  let open: { planId: string; participantId: string };
  let withdrawn: { planId: string; participantId: string };
  let referredAgain: { planId: string; participantId: string };
  let closedAt: string;
  const closedFirstContact = withOwnContact('Mistleholt');
  /** Typed in words: on closedFirst's exit and the withdrawn plan's withdrawal (both anonymised), and her newer open plan's referral (kept). */
  const EXIT_NOTE = 'Went to stay with Brackenfold family';
  const WITHDRAWAL_NOTE = 'Sister Corriemuir answered the phone';
  const OPEN_PLAN_NOTE = 'Referred again after Corriemuir called';

  /** Exit, then record both follow-ups when due: the plan is closed at the last. */
  const dueOf = (exited: { deadlines: { command: string; ref?: string; dueAt: string }[] }) =>
    Object.fromEntries(exited.deadlines.filter((d) => d.command === 'follow-up-due').map((d) => [d.ref, d.dueAt])) as Record<string, string>;
  const advanceTo = async (iso: string) => s.advance(Math.max(1, Date.parse(iso) - Date.parse(s.now())));

  beforeAll(async () => {
    closedFirst = await refer(closedFirstContact.participant);
    await command(closedFirst.planId, 'record-consent', consent());
    const dueFirst = dueOf(await command(closedFirst.planId, 'exit', { reason: 'completed', note: EXIT_NOTE }));
    closedLater = await refer();
    await command(closedLater.planId, 'record-consent', consent());
    open = await refer();
    withdrawn = await refer();
    await command(withdrawn.planId, 'withdraw', { reason: 'declined-support', note: WITHDRAWAL_NOTE });
    await s.advance(DAY_MS);
    const again = await s.call('POST', '/plans', {
      token: s.coordinator,
      body: { participant: (await s.call('GET', `/plans/${withdrawn.planId}`, { token: s.coordinator })).json.participant, referral: { source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine', note: OPEN_PLAN_NOTE } },
    });
    expect(again.status, again.text).toBe(201);
    referredAgain = { planId: again.json.planId, participantId: again.json.participantId };
    await s.advance(19 * DAY_MS);
    const dueLater = dueOf(await command(closedLater.planId, 'exit', { reason: 'disengaged' }));

    await advanceTo(new Date(Date.parse(dueFirst['6'] as string) + HOUR_MS).toISOString());
    await command(closedFirst.planId, 'record-follow-up', { month: 6, reoffended: 'no' });
    await advanceTo(new Date(Date.parse(dueLater['6'] as string) + HOUR_MS).toISOString());
    await command(closedLater.planId, 'record-follow-up', { month: 6, reoffended: 'unknown' });
    await advanceTo(new Date(Date.parse(dueFirst['12'] as string) + HOUR_MS).toISOString());
    const closed = await command(closedFirst.planId, 'record-follow-up', { month: 12, reoffended: 'no' });
    expect(closed.stage).toBe('closed');
    closedAt = closed.closedAt;
    await advanceTo(new Date(Date.parse(dueLater['12'] as string) + HOUR_MS).toISOString());
    expect((await command(closedLater.planId, 'record-follow-up', { month: 12, reoffended: 'no' })).stage).toBe('closed');
  });

  it('leaves a closed plan alone until its retention period has ended', async () => {
    await advanceTo(new Date(Date.parse(closedAt) + RETENTION_DAYS * DAY_MS - HOUR_MS).toISOString());
    const plan = await s.call('GET', `/plans/${closedFirst.planId}`, { token: s.coordinator });
    expect(plan.json.participant).toMatchObject(SECRET_PARTICIPANT);
    expect((await storedIdentity(closedFirst.participantId)).identity).toHaveLength(1);
    expect(await tableMentions(Object.values(closedFirstContact.contact))).toEqual(Object.values(closedFirstContact.contact));
    expect(plan.json.exit.note).toBe(EXIT_NOTE);
  });

  it('erases its identity an hour after the period, keeps the plan, and records the sweeper did it and why', async () => {
    const figuresBefore = await figures();
    await s.advance(2 * HOUR_MS);
    const plan = await s.call('GET', `/plans/${closedFirst.planId}`, { token: s.coordinator });
    expect(plan.status).toBe(200);
    expect(plan.json.stage).toBe('closed');
    expect(plan.json.participant).toBeUndefined();
    expect(plan.json.identityErasedAt).toBeDefined();
    expect(plan.json.followUps).toHaveLength(2);
    expect(await storedIdentity(closedFirst.participantId)).toEqual({ identity: [], person: [] });
    expect(await tableMentions(Object.values(closedFirstContact.contact))).toEqual([]);
    // What was typed in words goes with it; the exit's reason (a code) stays.
    expect(plan.json.exit).toMatchObject({ reason: 'completed', note: REDACTED });
    expect(await tableMentions([EXIT_NOTE])).toEqual([]);
    expect(await figures()).toEqual(figuresBefore);
    const records = (await auditOf(closedFirst.planId)).filter((r) => r.action === 'anonymise');
    expect(records).toEqual([
      expect.objectContaining({ who: 'sweeper', role: 'system', action: 'anonymise', planId: closedFirst.planId, participantId: closedFirst.participantId, at: plan.json.identityErasedAt }),
    ]);
    expect(records[0]?.why).toContain(`${RETENTION_DAYS} days`);
  });

  it('leaves an open plan and a recently closed plan untouched', async () => {
    for (const { planId, participantId } of [open, closedLater]) {
      const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
      expect(plan.json.participant, planId).toMatchObject(SECRET_PARTICIPANT);
      expect(plan.json.identityErasedAt, planId).toBeUndefined();
      expect((await storedIdentity(participantId)).identity, planId).toHaveLength(1);
    }
    expect((await s.call('GET', `/plans/${closedLater.planId}`, { token: s.coordinator })).json.stage).toBe('closed');
  });

  it('anonymises a withdrawn plan too, but keeps the identity her newer open plan still uses', async () => {
    expect(referredAgain.participantId).toBe(withdrawn.participantId);
    const old = await s.call('GET', `/plans/${withdrawn.planId}`, { token: s.coordinator });
    expect(old.json.participant).toBeUndefined();
    expect(old.json.identityErasedAt).toBeDefined();
    expect(old.json.withdrawal).toMatchObject({ reason: 'declined-support', note: REDACTED });
    const current = await s.call('GET', `/plans/${referredAgain.planId}`, { token: s.coordinator });
    expect(current.json.stage).not.toBe('closed');
    expect(current.json.participant).toMatchObject(SECRET_PARTICIPANT);
    // Only the anonymised plan is redacted: her open plan keeps what was typed on it.
    expect(current.json.referral.note).toBe(OPEN_PLAN_NOTE);
    expect(await tableMentions([WITHDRAWAL_NOTE, OPEN_PLAN_NOTE])).toEqual([OPEN_PLAN_NOTE]);
    expect((await storedIdentity(referredAgain.participantId)).identity).toHaveLength(1);
  });

  it('anonymises the later plan once its own period has ended', async () => {
    await s.advance(21 * DAY_MS);
    const plan = await s.call('GET', `/plans/${closedLater.planId}`, { token: s.coordinator });
    expect(plan.json.participant).toBeUndefined();
    expect(await storedIdentity(closedLater.participantId)).toEqual({ identity: [], person: [] });
    expect((await auditOf(closedLater.planId)).map((r) => r.action)).toContain('anonymise');
    // The open plan still has its identity.
    expect((await s.call('GET', `/plans/${open.planId}`, { token: s.coordinator })).json.participant).toMatchObject(SECRET_PARTICIPANT);
  });
});

describe('anonymisation keeps going past plans already erased', () => {
  /** A stack of its own, so the withdrawn stage holds only these plans; a retention period of one day. */
  let r: SecurityStack;
  const ended: { planId: string; participantId: string }[] = [];

  beforeAll(async () => {
    r = await startSecurityStack({ retentionDays: 1 });
  });
  afterAll(async () => {
    await r?.stop();
  });

  async function withdrawnPlan() {
    const referred = await r.call('POST', '/plans', { token: r.coordinator, body: referralBody() });
    if (referred.status !== 201) throw new Error(`refer: ${referred.status} ${referred.text}`);
    const withdrawn = await r.call('POST', `/plans/${referred.json.planId}/withdraw`, { token: r.coordinator, body: { reason: 'unreachable' } });
    if (withdrawn.status !== 200) throw new Error(`withdraw: ${withdrawn.status} ${withdrawn.text}`);
    const plan = { planId: referred.json.planId as string, participantId: referred.json.participantId as string };
    ended.push(plan);
    return plan;
  }

  /** What endedBefore asked before it paged: one query of `limit` items, filtered after the limit. */
  async function onePageUnerased(before: string, limit: number) {
    const out = await r.stack.plans.client.send(
      new QueryCommand({
        TableName: r.stack.plans.tableName,
        IndexName: 'byStage',
        KeyConditionExpression: 'stagePk = :pk AND stageSk < :before',
        FilterExpression: 'attribute_not_exists(identityErasedAt)',
        ExpressionAttributeValues: { ':pk': 'STAGE#withdrawn', ':before': before },
        Limit: limit,
      }),
    );
    return out.Items ?? [];
  }

  const erased = async (planId: string) => Boolean((await r.stack.plans.getPlan(planId))?.identityErasedAt);

  it('endedBefore returns the plans after the erased ones, up to its limit', async () => {
    const plans = [];
    for (let i = 0; i < 5; i += 1) {
      plans.push(await withdrawnPlan());
      await r.advance(HOUR_MS);
    }
    const [p0, p1, p2, p3, p4] = plans as [(typeof plans)[number], (typeof plans)[number], (typeof plans)[number], (typeof plans)[number], (typeof plans)[number]];
    for (const { planId } of [p0, p1]) expect((await r.call('POST', `/plans/${planId}/erase-identity`, { token: r.coordinator, body: { reason: 'her-request' } })).status).toBe(200);
    // The erased plans keep their place at the head of the stage: one page of 2 holds nothing to erase.
    expect(await onePageUnerased(r.now(), 2)).toEqual([]);
    expect((await r.stack.plans.endedBefore('withdrawn', r.now(), 2)).map((p) => p.planId)).toEqual([p2.planId, p3.planId]);
    expect((await r.stack.plans.endedBefore('withdrawn', r.now())).map((p) => p.planId)).toEqual([p2.planId, p3.planId, p4.planId]);
    // Only what ended before `before` is found.
    const p3Ended = (await r.stack.plans.getPlan(p3.planId))?.updatedAt as string;
    expect((await r.stack.plans.endedBefore('withdrawn', p3Ended, 5)).map((p) => p.planId)).toEqual([p2.planId]);
  });

  it('the sweeper anonymises every plan past its period, and later ones too, once more than 100 erased plans lead the stage', async () => {
    // 100 more, ending together: with the 5 above, more than the sweeper's 100 a run.
    for (let i = 0; i < 100; i += 1) await withdrawnPlan();
    expect(ended).toHaveLength(105);
    // A day and an hour on, swept every hour: every one of them is past its retention period.
    await r.advance(DAY_MS + 2 * HOUR_MS, HOUR_MS);
    const left = [];
    for (const { planId } of ended) if (!(await erased(planId))) left.push(planId);
    expect(left, `${left.length} of ${ended.length} plans still hold an identity`).toEqual([]);

    // One ending now: by the time its period is over, 105 erased plans come before it in the stage.
    const late = await withdrawnPlan();
    // A single page of 100 would see only erased plans, and never reach it.
    expect(await onePageUnerased('9999', 100)).toEqual([]);
    expect((await r.stack.plans.endedBefore('withdrawn', '9999')).map((p) => p.planId)).toEqual([late.planId]);
    await r.advance(DAY_MS + 2 * HOUR_MS, HOUR_MS);
    expect(await erased(late.planId)).toBe(true);
    const plan = await r.call('GET', `/plans/${late.planId}`, { token: r.coordinator });
    expect(plan.json.participant).toBeUndefined();
    expect(plan.text).not.toContain(SECRET_PARTICIPANT.familyName);
    expect((await scanTable(r.stack)).filter((i) => i.pk === `PARTICIPANT#${late.participantId}`)).toEqual([]);
  }, 120_000);
});
