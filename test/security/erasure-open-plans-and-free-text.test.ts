import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSecret } from '../../lib/local/secrets.ts';
/**
 * An erasure request over real HTTP on the embedded stack (dynalite):
 * - refused (409, naming the open plan, changing nothing) while any plan of hers is open, since an open
 *   plan without her identity would stay on the worklist, escalate for nobody and let her be referred
 *   twice; allowed once none is;
 * - what was typed in words on her plans (the referral's note, goals, a provider's note, her words at a
 *   review, a manual offer's reason, the exit note) is gone afterwards from every answer and every stored
 *   item (plan items read unzipped, history, answers kept for Idempotency-Keys), the figures unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '../../lib/domain/redaction.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { applyRetention } from '../../functions/sweeper/handler.ts';
import { claimPerson } from '../../lib/adapters/dynamodb/identity-store.ts';
import { erasureStaleBefore } from '../../lib/runtime/erasure.ts';
import type { CallResult } from '../support/http.ts';
import { referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;

beforeAll(async () => {
  s = await startSecurityStack();
});
afterAll(async () => {
  await s?.stop();
});

async function ok(method: string, path: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await s.call(method, path, { token, body, headers });
  if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res;
}

const consent = () => ({ scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' });

const figures = async () => {
  const res = await s.call('GET', '/metrics', { token: s.teamLead });
  expect(res.status).toBe(200);
  const { asOf: _asOf, generatedAt: _generatedAt, ...rest } = res.json as Record<string, unknown>;
  return rest;
};

describe('an erasure request while a plan of hers is open', () => {
  let exited: { planId: string; participantId: string };
  let open: { planId: string; participantId: string };

  beforeAll(async () => {
    const participant = secretParticipant();
    const first = await ok('POST', '/plans', s.coordinator, referralBody(participant));
    exited = { planId: first.json.planId, participantId: first.json.participantId };
    await ok('POST', `/plans/${exited.planId}/record-consent`, s.coordinator, consent());
    await ok('POST', `/plans/${exited.planId}/exit`, s.coordinator, { reason: 'disengaged' });
    // Her consent withdrawn: its follow-ups cancelled, it closes (one waiting for them holds an erasure too: erasure-follow-ups.test.ts).
    await ok('POST', `/plans/${exited.planId}/withdraw-consent`, s.coordinator, {});
    const again = await ok('POST', '/plans', s.coordinator, referralBody(participant));
    open = { planId: again.json.planId, participantId: again.json.participantId };
    expect(open.participantId).toBe(exited.participantId);
  });

  it('is refused with a 409 naming the open plan and what to do first, and changes nothing', async () => {
    const before = await scanTable(s.stack, { withAudit: true });
    const res = await s.call('POST', `/plans/${exited.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toBe(`Her identity cannot be erased while a plan of hers is open. Her plan ${open.planId} (stage referred): withdraw the referral or record her consent withdrawn first, then ask again.`);
    expect(res.json.errors).toEqual([{ path: 'planId', message: `plan ${open.planId} is open (stage referred): withdraw the referral or record her consent withdrawn first` }]);
    // The open plan itself: the same refusal, naming it.
    const own = await s.call('POST', `/plans/${open.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(own.status, own.text).toBe(409);
    expect(own.json.detail).toContain('open. This plan (stage referred): withdraw the referral or record her consent withdrawn first');
    expect(await scanTable(s.stack, { withAudit: true })).toEqual(before);
    for (const planId of [exited.planId, open.planId]) {
      const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
      expect(plan.json.participant, planId).toBeDefined();
      expect(plan.json.identityErasedAt, planId).toBeUndefined();
    }
    // Her one identity record is still there, so referring her again is still refused as a duplicate.
    const duplicate = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody((await s.call('GET', `/plans/${open.planId}`, { token: s.coordinator })).json.participant) });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.errors).toEqual([{ path: 'participant', message: `already has open plan ${open.planId}` }]);
    // That refusal showed the coordinator a plan found by the identity she typed: it is on her plan's audit record.
    const audit = await s.call('GET', `/audit?from=${s.now().slice(0, 10)}&to=${s.now().slice(0, 10)}&planId=${open.planId}`, { token: s.teamLead });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.json.items.filter((r: { action: string }) => r.action === 'refer-found-open-plan')).toEqual([
      expect.objectContaining({ planId: open.planId, role: 'coordinator', outcome: { result: 'refused', status: 409, problem: 'Conflict' } }),
    ]);
  });

  it('is done once no plan of hers is open: every plan of hers marked, her identity gone', async () => {
    await ok('POST', `/plans/${open.planId}/withdraw`, s.coordinator, { reason: 'declined-support' });
    const res = await s.call('POST', `/plans/${exited.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(res.status, res.text).toBe(200);
    for (const planId of [exited.planId, open.planId]) {
      const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
      expect(plan.json.participant, planId).toBeUndefined();
      expect(plan.json.identityErasedAt, planId).toBe(s.now());
    }
    expect((await scanTable(s.stack)).filter((i) => i.pk === `PARTICIPANT#${exited.participantId}`)).toEqual([]);
  });
});

describe('an erasure request while a referral of her is being recorded', () => {
  it('is refused until that referral has saved its plan (or died), since its plan is about to use her record', async () => {
    const participant = secretParticipant();
    const first = await ok('POST', '/plans', s.coordinator, referralBody(participant));
    const planId = first.json.planId as string;
    await ok('POST', `/plans/${planId}/withdraw`, s.coordinator, { reason: 'unreachable' });
    // A second referral of her has claimed her person record (the step before its plan is saved), as the
    // referral route does, and has not saved its plan yet.
    const person = (await scanTable(s.stack)).find((i) => String(i.pk).startsWith('PERSON#') && i.participantId === first.json.participantId);
    const matchKey = String(person?.pk).slice('PERSON#'.length);
    const inFlight = 'pl_referralinflight0000001';
    expect(await claimPerson(s.stack.plans, matchKey, { planId: inFlight, participantId: first.json.participantId, seen: planId, known: true }, s.now(), erasureStaleBefore(s.now()))).toBe(true);

    const before = await scanTable(s.stack, { withAudit: true });
    const res = await s.call('POST', `/plans/${planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(res.status, res.text).toBe(409);
    expect(res.json.detail).toContain(`A referral of her is being recorded right now (plan ${inFlight})`);
    expect(await scanTable(s.stack, { withAudit: true })).toEqual(before);

    // A claim whose plan never appeared within six minutes (longer than a referral can run on AWS) belongs to a referral that died.
    await s.advance(7 * 60_000);
    expect((await s.call('POST', `/plans/${planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } })).status).toBe(200);
    expect((await scanTable(s.stack)).filter((i) => i.pk === `PARTICIPANT#${first.json.participantId}`)).toEqual([]);
  });
});

describe("the sweeper's anonymisation without the identity key", () => {
  /** A stack of its own: applyRetention here anonymises every withdrawn plan it finds. On disk, so the test can read its identity key. */
  let r: SecurityStack;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-retention-key-'));
    r = await startSecurityStack({ inMemory: false, dataDir });
  });
  afterAll(async () => {
    await r?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('anonymises nothing until the key is back, then keeps the identity record her open plan still uses', async () => {
    const participant = secretParticipant();
    const referred = await r.call('POST', '/plans', { token: r.coordinator, body: referralBody(participant) });
    expect(referred.status).toBe(201);
    expect((await r.call('POST', `/plans/${referred.json.planId}/withdraw`, { token: r.coordinator, body: { reason: 'unreachable' } })).status).toBe(200);
    const again = await r.call('POST', '/plans', { token: r.coordinator, body: referralBody(participant) });
    expect(again.json.participantId).toBe(referred.json.participantId);
    await r.advance(60_000);

    const audit = new DynamoAuditLog(r.stack.plans.client, r.stack.plans.tableName);
    const withoutKey = await applyRetention({ plans: r.stack.plans, retention: { days: 0, plans: r.stack.plans, audit, identityKey: async () => undefined } }, r.now());
    // Marked erased with her record kept, the plan would never be looked at again: her record would stay for good.
    expect(withoutKey).toEqual({ plansAnonymised: 0, identitiesErased: 0 });
    expect((await r.call('GET', `/plans/${referred.json.planId}`, { token: r.coordinator })).json.identityErasedAt).toBeUndefined();
    const anonymised = await applyRetention({ plans: r.stack.plans, retention: { days: 0, plans: r.stack.plans, audit, identityKey: async () => localSecret(dataDir, 'identity-key') } }, r.now());
    // Her record stays (her open plan uses it): one plan anonymised, no identity record erased.
    expect(anonymised).toEqual({ plansAnonymised: 1, identitiesErased: 0 });
    expect((await r.call('GET', `/plans/${referred.json.planId}`, { token: r.coordinator })).json.identityErasedAt).toBe(r.now());
    // Her open plan keeps her identity: it is not stranded on the worklist without one.
    const open = await r.call('GET', `/plans/${again.json.planId}`, { token: r.coordinator });
    expect(open.json.stage).toBe('referred');
    expect(open.json.participant).toMatchObject({ familyName: participant.familyName, dateOfBirth: participant.dateOfBirth });
  });
});

describe('what was typed in words on her plans, after an erasure', () => {
  /** One made-up word per field, so a failure says which field kept its text. */
  const WORDS = {
    referralNote: 'Ottergrove',
    goal: 'Fennimoresworth',
    manualReason: 'Pellinghamshire',
    acceptNote: 'Wickenbyholt',
    reviewWords: 'Saltmarshden',
    exitNote: 'Harrowgatemoor',
  } as const;
  const words = Object.values(WORDS);
  let planId: string;
  let allocationId: string;
  let providerToken: string;
  const keys = { assessment: `erasure-assessment-${Date.now()}`, accept: `erasure-accept-${Date.now()}` };
  let assessment: unknown;
  let acceptance: unknown;
  let whileActive: CallResult;

  /** Which of `words` are anywhere in the table but the audit log (plan items unzipped, history, feeds, kept answers). */
  const stored = async () => {
    const text = JSON.stringify(await scanTable(s.stack));
    return words.filter((w) => text.includes(w));
  };

  beforeAll(async () => {
    const referral = referralBody();
    const referred = await ok('POST', '/plans', s.coordinator, { ...referral, referral: { ...referral.referral, note: `Her cousin ${WORDS.referralNote} drove her in` } });
    planId = referred.json.planId;
    await ok('POST', `/plans/${planId}/record-consent`, s.coordinator, consent());
    assessment = { needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: [`See ${WORDS.goal} on Sundays`] }] };
    const assessed = await ok('POST', `/plans/${planId}/submit-assessment`, s.coordinator, assessment, { 'Idempotency-Key': keys.assessment });
    const offered = (assessed.json.allocations as { serviceId: string }[])[0];
    const other = offered?.serviceId === 'anawim-womens-centre' ? 'changing-lives-recovery' : 'anawim-womens-centre';
    const manual = await ok('POST', `/plans/${planId}/offer-manually`, s.coordinator, { serviceId: other, needs: ['mental-health'], reason: `${WORDS.manualReason} knows their staff` });
    const allocation = (manual.json.allocations as { allocationId: string; providerId: string; serviceId: string; status: string }[]).find((a) => a.serviceId === other && a.status === 'offered');
    if (!allocation) throw new Error(`no manual offer: ${manual.text}`);
    allocationId = allocation.allocationId;
    providerToken = s.provider(allocation.providerId);
    acceptance = { note: `Will meet her with ${WORDS.acceptNote}` };
    await ok('POST', `/allocations/${allocationId}/accept`, providerToken, acceptance, { 'Idempotency-Key': keys.accept });
    await ok('POST', `/plans/${planId}/record-review`, s.coordinator, { scores: { 'mental-health': 6 }, outcome: 'continue', participantWords: `${WORDS.reviewWords} is safe now` });
    whileActive = await s.call('POST', `/plans/${planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    await ok('POST', `/plans/${planId}/exit`, s.coordinator, { reason: 'completed', note: `Moved in with ${WORDS.exitNote}` });
    // She asked to be forgotten: her consent withdrawn cancels the follow-ups that would hold the erasure.
    await ok('POST', `/plans/${planId}/withdraw-consent`, s.coordinator, {});
  });

  it('was refused while the plan was active, saying to exit it first', () => {
    expect(whileActive.status, whileActive.text).toBe(409);
    expect(whileActive.json.detail).toBe('Her identity cannot be erased while a plan of hers is open. This plan (stage active): exit it or record her consent withdrawn first, then ask again.');
  });

  it('is held before (so the checks after can fail)', async () => {
    const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
    for (const word of words) expect(plan.text, word).toContain(word);
    expect(await stored()).toEqual(words);
    const replayed = await s.call('POST', `/allocations/${allocationId}/accept`, { token: providerToken, body: acceptance, headers: { 'Idempotency-Key': keys.accept } });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.text).toContain(WORDS.goal);
  });

  it('is gone from the plan, its history, the provider view, the answers kept for retries and every stored item; the structure and the figures stay', async () => {
    const before = (await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json;
    const historyBefore = (await s.call('GET', `/plans/${planId}/history`, { token: s.coordinator })).json;
    const figuresBefore = await figures();

    const res = await s.call('POST', `/plans/${planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
    expect(res.status, res.text).toBe(200);

    const after = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
    for (const word of words) expect(after.text, word).not.toContain(word);
    const plan = after.json;
    expect(plan.referral.note).toBe(REDACTED);
    expect(plan.needs.map((n: { goals: string[] }) => n.goals)).toEqual([[REDACTED]]);
    const manual = plan.allocations.find((a: { allocationId: string }) => a.allocationId === allocationId);
    expect(manual).toMatchObject({ manualReason: REDACTED, why: `Offered by hand: ${REDACTED}`, note: REDACTED, status: 'ended' });
    expect(plan.reviews.map((r: { participantWords: string }) => r.participantWords)).toEqual([REDACTED]);
    expect(plan.exit).toMatchObject({ reason: 'completed', note: REDACTED });
    // Everything else as it was: stage, needs, dates, scores, outcomes, the version.
    const mask = (p: typeof before) => ({
      ...p,
      participant: undefined,
      participantRevision: undefined,
      identityErasedAt: undefined,
      referral: { ...p.referral, note: undefined },
      needs: p.needs.map((n: object) => ({ ...n, goals: undefined })),
      allocations: p.allocations.map((a: { manualReason?: string }) => ({ ...a, note: undefined, ...(a.manualReason ? { manualReason: undefined, why: undefined } : {}) })),
      reviews: p.reviews.map((r: object) => ({ ...r, participantWords: undefined })),
      exit: { ...p.exit, note: undefined },
    });
    expect(mask(plan)).toEqual(mask(before));
    expect(plan.identityErasedAt).toBe(s.now());

    const history = await s.call('GET', `/plans/${planId}/history`, { token: s.coordinator });
    for (const word of words) expect(history.text, word).not.toContain(word);
    expect(history.json).toEqual(historyBefore);

    const providerView = await s.call('GET', `/allocations/${allocationId}`, { token: providerToken });
    expect(providerView.status).toBe(200);
    for (const word of words) expect(providerView.text, word).not.toContain(word);

    // A retry of a command with its Idempotency-Key is still recognised, and answered without her words.
    const assessedAgain = await s.call('POST', `/plans/${planId}/submit-assessment`, { token: s.coordinator, body: assessment, headers: { 'Idempotency-Key': keys.assessment } });
    expect(assessedAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(assessedAgain.json.needs[0].goals).toEqual([REDACTED]);
    const acceptedAgain = await s.call('POST', `/allocations/${allocationId}/accept`, { token: providerToken, body: acceptance, headers: { 'Idempotency-Key': keys.accept } });
    expect(acceptedAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(acceptedAgain.json.needs[0].goals).toEqual([REDACTED]);
    for (const text of [assessedAgain.text, acceptedAgain.text]) for (const word of words) expect(text, word).not.toContain(word);

    expect(await stored()).toEqual([]);
    expect(await figures()).toEqual(figuresBefore);
  });
});
