import { createHash, randomBytes } from 'node:crypto';
import { ErasePayload, ExpectedVersion, IdempotencyKey } from '../../lib/api/request-schemas.ts';
import { identityEntityTag, IfMatch, ifMatchHolds } from '../../lib/api/if-match.ts';
import { identityOfItem, type PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { planIdOfAllocation } from '../../lib/adapters/dynamodb/keys.ts';
import { apiHandler, type Logger, type RouteContext } from '../../lib/api/handler-kit.ts';
import { failureToProblem, header, HttpProblem, json, parseWith, problem, readJsonBody, type HttpResult } from '../../lib/api/http.ts';
import { londonDate, londonDateTimeWords, londonDayWords } from '../../lib/domain/calendar.ts';
import type { Command } from '../../lib/domain/decide.ts';
import { allocationCommandBySegment, contactCorrectableStages, contactDetailsCorrectable, LIFECYCLE, planCommandBySegment, type CommandName } from '../../lib/domain/lifecycle.ts';
import { AllocationId, COMMAND_PAYLOADS, HeldIdentity, IdentityCorrection, Participant, PlanId, POSSIBLE_DUPLICATE_TYPE, ReferPayload, type Plan, type PossibleDuplicatePlan, type ReferralDetailsReport, type ReferralOpenPlan } from '../../lib/domain/schemas.ts';
import { applyReferralDetails, claimPerson, CORRECTABLE_FIELDS, correctedIdentity, correctIdentity, noteReferral, type CorrectableField, type ReferralDetailsOutcome } from '../../lib/adapters/dynamodb/identity-store.ts';
import { planView } from '../../lib/domain/views.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import type { PlanCommandState, WorkflowStarter } from '../../workflows/plan-command/state.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';
import { identityMatchKey } from '../../lib/adapters/identity-match.ts';
import { nearMatchKeys } from '../../lib/adapters/near-match.ts';
import { fileNearMatches, openForReferral, openPlansNearMatching } from '../../lib/adapters/dynamodb/near-match-store.ts';
import { andList } from '../../lib/domain/list-words.ts';
import type { AuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { auditAccess, displayNameOf } from '../../lib/api/audit-access.ts';
import { ageOn, dateOfBirthRefusal } from '../../lib/domain/age.ts';
import { allocationHeldBy, refuseExpectedVersionFromProvider } from '../../lib/api/provider-allocation-access.ts';
import { erasureHeldWords, type ErasureHeldBy } from '../../lib/domain/erasure-hold.ts';
import { eraseIdentity, erasureStaleBefore, erasureUnderWay, referralClaimEndsAt, referralInFlight } from '../../lib/runtime/erasure.ts';

export interface CommandApiDeps {
  plans: PlanRepository;
  workflow: WorkflowStarter;
  clock: () => string;
  /** Random id material (hex); injected so tests can fix it. */
  randomId?: () => string;
  /** Secret for linking a woman's plans across referrals; without it, no duplicate check or linking. */
  identityKey?: () => Promise<Uint8Array | undefined>;
  audit: AuditLog;
  /** Where an unexpected error is logged (default console.error): the embedded stack tells its stop's doing apart. */
  logger?: Logger;
}

/** How often a correction is checked again when another change to her identity landed in between. */
const IDENTITY_CORRECTION_ATTEMPTS = 3;


const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The Idempotency-Key, scoped to the caller (two users' keys never collide), and a fingerprint of
 * the request it was sent with: the same key with a different request is refused, not replayed.
 */
function idempotencyOf(ctx: RouteContext, body: unknown) {
  const raw = header(ctx.event, 'idempotency-key');
  if (raw === undefined) return undefined;
  const key = parseWith(IdempotencyKey, raw, 'Idempotency-Key header', 'Idempotency-Key');
  // The fingerprint is stored on the plan, so it must not let anyone confirm a guessed identity:
  // the participant is left out here and compared with the identity record instead.
  const { participant: _identity, ...rest } = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : { body }) as Record<string, unknown>;
  const fingerprint = sha256(JSON.stringify([ctx.route.method, ctx.route.path, ctx.params, rest]));
  return { key: `${ctx.principal?.sub ?? ''}:${key}`, fingerprint, keyHash: sha256(`${ctx.principal?.sub ?? ''}:${key}`) };
}

/** `expectedVersion` rides in the body next to the command's own fields; take it out before validation. */
function splitExpectedVersion(body: unknown): { payload: unknown; expectedVersion?: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('expectedVersion' in body)) return { payload: body };
  const { expectedVersion, ...payload } = body as Record<string, unknown>;
  return { payload, expectedVersion: parseWith(ExpectedVersion, expectedVersion, 'expectedVersion', 'expectedVersion') };
}

const DETAIL_WORDS: Record<CorrectableField, string> = { preferredName: 'preferred name', contact: 'contact details', address: 'address' };
const listed = (fields: readonly CorrectableField[]) => {
  const words = fields.map((f) => DETAIL_WORDS[f]);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : words.join('');
};

/**
 * What the referral's answer says about her contact details, address and preferred name: which
 * were written and which not, why, and what the coordinator should do. Field names only, never
 * values: it is stored with the answer for retries, where nothing about her may be.
 * `details` is undefined when nothing was to be written over an earlier record: either the referral
 * made her record (all written with it), or it gave none of them (no report).
 */
function referralDetailsReport(participant: Participant, plan: Plan, details: ReferralDetailsOutcome | undefined): { referralDetails?: ReferralDetailsReport } {
  const given = CORRECTABLE_FIELDS.filter((field) => participant[field] !== undefined);
  if (given.length === 0) return {};
  // Her record made by this referral (no earlier plan of hers): written with it.
  const outcome = details && !(details.why === 'not-noted' && (plan.previousPlanIds ?? []).length === 0) ? details : { applied: given, notApplied: [] };
  if (outcome.notApplied.length === 0) return { referralDetails: { applied: outcome.applied, notApplied: [] } };
  // Only the fields a correction named were corrected: the rest of notApplied was kept with them (see ReferralDetailsOutcome.corrected).
  const corrected = outcome.corrected && outcome.corrected.length > 0 ? outcome.corrected : outcome.notApplied;
  const keptWith = outcome.notApplied.filter((field) => !corrected.includes(field));
  const because =
    outcome.why === 'not-held'
      ? 'her identity is no longer held (erased)'
      : outcome.why === 'not-noted'
        ? 'they could not be checked against what was held before this referral'
        : `her ${listed(corrected)} ${corrected.length > 1 ? 'were' : 'was'} corrected on her record while this referral was being recorded, and a correction is the newer word` +
          (keptWith.length > 0 ? `; without the referral's ${listed(corrected)}, its ${listed(keptWith)} would not go with what is held` : '');
  return {
    referralDetails: {
      applied: outcome.applied,
      notApplied: outcome.notApplied,
      reason: outcome.why === 'not-held' ? 'identity-not-held' : outcome.why === 'not-noted' ? 'not-checked' : 'corrected-since-referral',
      detail: `This referral's ${listed(outcome.notApplied)} ${outcome.notApplied.length > 1 ? 'were' : 'was'} not written to her record: ${because}. Check her contact details on the plan page, and correct them there if this referral's are the right ones.`,
    },
  };
}

export function makeHandler(deps: CommandApiDeps) {
  const randomId = deps.randomId ?? (() => randomBytes(12).toString('hex'));

  async function run(command: Command, loaded?: Plan): Promise<{ state: PlanCommandState; replayed: boolean }> {
    const outcome = await deps.workflow.startSync({ command, now: deps.clock(), ...(loaded ? { loaded } : {}) });
    if (outcome.status === 'FAILED') throw failureToProblem(outcome.error, outcome.cause);
    const state = outcome.output;
    if (!state.plan) throw problem(500, 'The command finished without a plan.');
    return { state, replayed: Boolean(state.replay) };
  }

  type Idempotency = NonNullable<ReturnType<typeof idempotencyOf>>;
  const sameIdentity = (a: Participant | undefined, b: Participant) => Boolean(a) && a?.givenName === b.givenName && a?.familyName === b.familyName && a?.dateOfBirth === b.dateOfBirth;
  // A woman referred again keeps her name as first recorded: a referral spelling it otherwise is still
  // about her when it matches her as the duplicate check does.
  const samePerson = (held: Participant | undefined, referred: Participant, secret: Uint8Array | undefined) =>
    sameIdentity(held, referred) || (Boolean(held) && Boolean(secret) && identityMatchKey(secret as Uint8Array, held as Participant) === identityMatchKey(secret as Uint8Array, referred));
  const keyReused = () => problem(422, 'This Idempotency-Key was already used for a different request.', [{ path: 'Idempotency-Key', message: 'already used for a different request' }]);
  /** A referral of a woman whose identity is being erased right now: refused, nothing of hers written. */
  const beingErased = () =>
    problem(409, 'Her identity is being erased right now (an erasure request or the end of a retention period): nothing was recorded. Once it is done, refer her again: she will be referred as someone new.', [
      { path: 'participant', message: 'her identity is being erased right now' },
    ]);
  /**
   * Another referral of her holds her person record (`claim`): one still running, or one that died
   * before it could give the claim up, which counts as running until referralClaimEndsAt (not sooner:
   * see REFERRAL_CLAIM_TIMEOUT_MS). What the coordinator can do: send that referral again with its
   * Idempotency-Key (a retry of it goes ahead at once and finishes it, or answers it if it was recorded),
   * or refer her anew once its claim has ended, which Retry-After and the detail give.
   */
  const referredAlready = (claim: { at: string } | undefined, now: string) => {
    const left = claim ? Date.parse(referralClaimEndsAt(claim.at)) - Date.parse(now) : 0;
    const seconds = Math.max(1, Math.ceil(left / 1000));
    const minutes = Math.ceil(seconds / 60);
    // The time a person reads is rounded up to the minute, so a referral sent at it is never early.
    const readableAt = new Date(Math.ceil((Date.parse(now) + seconds * 1000) / 60_000) * 60_000).toISOString();
    const when = left > 0 ? `from ${londonDateTimeWords(readableAt)} (London time, in ${minutes} minute${minutes > 1 ? 's' : ''})` : 'in a moment';
    return problem(
      409,
      `A referral of this person is in progress, or was interrupted before it finished: nothing was recorded by this request. If you sent that referral, sending it again with the same Idempotency-Key is safe: it finishes it, or returns the plan if it was recorded. A new referral of her will be possible ${when}; look for her plan on the worklist first.`,
      [{ path: 'participant', message: `a referral of her is in progress or was interrupted; a new one is possible ${when}` }],
      { 'retry-after': String(seconds) },
    );
  };
  /**
   * A referral that may be a second one of a woman with an open plan (a near match of her name and date of
   * birth: lib/adapters/near-match.ts). Warned, not blocked: the coordinator checks the plans named and,
   * if she is a different woman, sends the referral again with notDuplicateOf naming them all. The
   * plans only, with stage and referral day: nothing of who either woman is.
   */
  const possibleDuplicate = (flagged: readonly (Omit<PossibleDuplicatePlan, 'referredOn'> & { referredAt: string })[]) => {
    const ids = flagged.map((p) => p.planId);
    // The day only, as possibleDuplicates gives it: the time of another woman's referral says no more that helps the check.
    const plans = flagged.map((p) => `plan ${p.planId} (${p.stage}, referred on ${londonDayWords(p.referredAt)})`);
    const refusal = new HttpProblem(
      409,
      'Possible duplicate referral',
      `A plan may already be open for this woman: ${andList(plans)}. The referral was not recorded (the warning is, in the audit log). Check ${flagged.length > 1 ? 'them' : 'it'}; if she is a different woman, send the referral again with notDuplicateOf listing ${andList(ids)}.`,
      [{ path: 'notDuplicateOf', message: `must list ${andList(ids)} to confirm she is a different woman` }],
    );
    refusal.type = POSSIBLE_DUPLICATE_TYPE;
    refusal.extensions = { possibleDuplicates: flagged.map(({ planId, stage, referredAt }) => ({ planId, stage, referredOn: londonDate(referredAt) })) };
    return refusal;
  };

  /**
   * The open plans of other women whose name and date of birth nearly match this referral's: filed under
   * one of its near-match keys, or under the exact match key of its identity after one slip. Her own
   * plans (her person record's) and an erased plan are not another woman's.
   */
  async function possibleDuplicatesOf(near: ReturnType<typeof nearMatchKeys>, her: { participantId?: string; planIds: string[] } | undefined, planId: string) {
    const plans = await openPlansNearMatching(deps.plans, near, { planIds: [planId, ...(her?.planIds ?? [])], participantId: her?.participantId });
    return plans.map((p) => ({ planId: p.planId, stage: p.stage, referredAt: p.createdAt }));
  }

  /** Her identity was erased between this referral reading her record and claiming it. */
  const erasedMeanwhile = () =>
    problem(409, 'Her identity was erased while this referral was being recorded: nothing was recorded. Send the referral again: she will be referred as someone new.', [
      { path: 'participant', message: 'her identity was erased while this referral was being recorded' },
    ]);

  /** A retry whose first response is on record gets exactly that response back. */
  async function firstResponse(scope: string, idempotency: Idempotency | undefined): Promise<HttpResult | undefined> {
    if (!idempotency) return undefined;
    const stored = await deps.plans.getResponse(scope, idempotency.keyHash);
    if (!stored) return undefined;
    if (stored.fingerprint !== idempotency.fingerprint) throw keyReused();
    return { statusCode: stored.status, headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' }, body: stored.body };
  }

  /**
   * Answer, remembering the answer for the key. If the command was applied but its answer was never
   * stored (the process stopped in between), the plan as it is now is returned, marked as a replay.
   */
  async function answer(scope: string, idempotency: Idempotency | undefined, replayed: boolean, status: number, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    const text = JSON.stringify(body);
    if (idempotency && !replayed) await deps.plans.saveResponse(scope, idempotency.keyHash, { fingerprint: idempotency.fingerprint, status, body: text }, deps.clock());
    return { statusCode: status, headers: { 'content-type': 'application/json', ...headers, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) }, body: text };
  }

  async function refer(ctx: RouteContext): Promise<HttpResult> {
    const body = readJsonBody(ctx.event);
    const idempotency = idempotencyOf(ctx, body);
    const referral = parseWith(ReferPayload, body, 'referral');
    const now = deps.clock();
    const today = londonDate(now);
    // Judged on the injected clock's date: on a simulated clock, her age in simulated time.
    const dobRefused = dateOfBirthRefusal(referral.participant.dateOfBirth, today);
    if (dobRefused) throw problem(400, `participant.dateOfBirth: ${dobRefused}`, [{ path: 'participant.dateOfBirth', message: dobRefused }]);
    const age = ageOn(referral.participant.dateOfBirth, today);
    // With an Idempotency-Key the plan id follows from it, so a retried referral finds its first plan.
    const planId = `pl_${idempotency ? idempotency.keyHash.slice(0, 24) : randomId()}`;
    // Her person record is read beside the answer stored for the key, not after it: a first attempt (the
    // common case) needs both, and only a retry answered from the store reads the person record for nothing.
    const secret = await deps.identityKey?.();
    const matchKey = secret ? identityMatchKey(secret, referral.participant) : undefined;
    const [cached, person] = await Promise.all([firstResponse(planId, idempotency), matchKey ? deps.plans.findPerson(matchKey) : undefined]);
    if (cached) {
      // The stored answer holds no identity: check the retry is about the same person, then add it back.
      const plan = await deps.plans.getPlan(planId);
      const record = plan ? await deps.plans.getIdentityRecord(plan.participantId) : undefined;
      if (!record || !samePerson(record.identity, referral.participant, secret)) throw keyReused();
      // A replay discloses the plan and her identity again: that is an access like any other.
      await auditAccess(deps.audit, ctx, 'replay-referral', { planId, ...(plan ? { participantId: plan.participantId } : {}) }, now, 'referral');
      return {
        ...cached,
        headers: { ...cached.headers, location: `/plans/${planId}` },
        body: JSON.stringify({ ...(JSON.parse(String(cached.body)) as object), participant: record.identity, participantRevision: record.revision }),
      };
    }
    // A woman referred before: refuse a duplicate while a plan is open, otherwise link the new plan to
    // her earlier ones and keep her one identity record.
    const otherIds = [...new Set([...(person?.planIds ?? []), ...(person?.claim ? [person.claim.planId] : [])])].filter((id) => id !== planId);
    const others = await Promise.all(otherIds.map(async (id) => ({ id, plan: await deps.plans.getPlan(id, false) })));
    const earlier = others.map((o) => o.plan).filter((p): p is Plan => Boolean(p));
    // Open by the same rule as the near-match warning's (openForReferral): one statement of it.
    const open = earlier.find(openForReferral);
    // Refusals that show the coordinator plans linked to the name and date of birth she typed are a look-up
    // of a woman by who she is: each is on the audit record (and its refusal filed as its outcome).
    if (open) {
      await auditAccess(deps.audit, ctx, 'refer-found-open-plan', { planId: open.planId }, now, 'referral');
      const refusal = problem(409, `This person already has an open plan (${open.planId}, stage ${open.stage}): work with that plan instead of referring again.`, [
        { path: 'participant', message: `already has open plan ${open.planId}` },
      ]);
      // The plan as a member of its own (ReferralOpenPlan), so a client goes to it without reading the words.
      const openPlan: ReferralOpenPlan = { planId: open.planId, stage: open.stage };
      refusal.extensions = { openPlan };
      throw refusal;
    }
    const claim = person?.claim;
    if (referralInFlight(claim, planId, earlier, now)) throw referredAlready(claim, now);
    if (erasureUnderWay(person?.erasing, now)) throw beingErased();
    // A near match with another woman's open plan: warned unless the coordinator confirmed each plan named
    // is another woman's. One BatchGetItem for her near-match keys, and one for the plans filed under them (rarely any).
    const near = secret ? nearMatchKeys(secret, referral.participant) : undefined;
    const flagged = near ? await possibleDuplicatesOf(near, person, planId) : [];
    const confirmed = new Set(referral.notDuplicateOf ?? []);
    const confirmedDifferent = flagged.filter((p) => confirmed.has(p.planId)).map((p) => p.planId);
    // A retry of a referral already recorded (its answer lost) is answered as the first was, not warned.
    if (confirmedDifferent.length < flagged.length && !(await deps.plans.getPlan(planId))) {
      await auditAccess(deps.audit, ctx, 'refer-warned-possible-duplicate', { possibleDuplicates: flagged.map((p) => p.planId) }, now, 'referral');
      throw possibleDuplicate(flagged);
    }
    // Identity lives apart from the plan under a random pseudonymous id, so two referrals racing on one
    // key never write over each other's identity; the loser's record is removed again below.
    // A person record with no participant id (see PersonRecord) is no one's identity: she gets a new one.
    const heldId = person?.participantId;
    const participantId = heldId ?? `pt_${randomId()}`;
    // Accountability first: nothing about her is written unless the audit record of writing it is.
    if (confirmedDifferent.length > 0) await auditAccess(deps.audit, ctx, 'refer-confirmed-different-woman', { planId, participantId, notDuplicateOf: confirmedDifferent }, now, 'referral');
    else await auditAccess(deps.audit, ctx, 'refer-and-record-identity', { planId, participantId }, now, 'referral');
    // The claim holds only while no erasure of her is under way (lib/runtime/erasure.ts): the two never overlap.
    if (matchKey && !(await claimPerson(deps.plans, matchKey, { planId, participantId, known: heldId !== undefined, ...(claim ? { seen: claim.planId } : {}) }, now, erasureStaleBefore(now)))) {
      const heldNow = await deps.plans.findPerson(matchKey);
      if (erasureUnderWay(heldNow?.erasing, now)) throw beingErased();
      if (heldId !== undefined && heldNow?.participantId !== heldId) throw erasedMeanwhile();
      throw referredAlready(heldNow?.claim, now);
    }
    // Never overwrites: for a woman referred before, her existing record stays as it is (until the
    // referral is accepted, below). After the claim, not beside it: a referral that loses the claim writes
    // nothing of her (beside it, the loser's new record would be written and then deleted again).
    const created = await deps.plans.putIdentity(participantId, referral.participant, now, planId);
    // For a woman referred before: how to reach her and where she lives change, and this referral's
    // are the ones to use (an old number may now be unsafe). Only what it gives replaces; the rest is kept.
    const { preferredName, contact, address } = referral.participant;
    const fresh = created ? {} : { ...(preferredName ? { preferredName } : {}), ...(contact ? { contact } : {}), ...(address ? { address } : {}) };
    const bringsDetails = Object.keys(fresh).length > 0;
    let outcome;
    try {
      // Noted on her record before the referral runs, so that writing them later (below, or on a
      // retry) can tell whether her record changed since.
      if (bringsDetails) await noteReferral(deps.plans, participantId, planId);
      outcome = await run({
        name: 'refer',
        planId,
        payload: {
          participantId,
          ageAtReferral: age,
          referral: referral.referral,
          ...(referral.reviewEveryDays ? { reviewEveryDays: referral.reviewEveryDays } : {}),
          previousPlanIds: earlier.map((p) => p.planId),
        },
        actor: { role: 'coordinator', sub: ctx.principal?.sub ?? 'unknown' },
        ...(idempotency ? { idempotency } : {}),
      });
    } catch (error) {
      // The plan read once (when anything is to be undone): whether it was saved decides both whether her new
      // record is deleted and whether the claim is given up.
      const saved = created || matchKey ? await deps.plans.getPlan(planId) : undefined;
      if (created && saved?.participantId !== participantId) await deps.plans.deleteIdentity(participantId);
      if (matchKey && !saved) await deps.plans.releasePerson(matchKey, planId);
      throw error;
    }
    const plan = outcome.state.plan as Plan;
    // The plan in hand says whose it is (a retry that lost to another participant's referral): no second read.
    if (plan.participantId !== participantId && created) await deps.plans.deleteIdentity(participantId);
    // A replay is checked against her record read consistently, and that read is the answer's too (below).
    const heldBefore = outcome.replayed ? await deps.plans.getIdentityRecord(plan.participantId) : undefined;
    if (outcome.replayed && !samePerson(heldBefore?.identity, referral.participant, secret)) throw keyReused();
    let details: ReferralDetailsOutcome | undefined;
    if (plan.participantId === participantId) {
      // All after the plan is saved, so a retry after a crash in between (a replay here) does them then;
      // each is idempotent and none reads what another writes, so they go together:
      // - the referral's details replace hers only once it is accepted: a refused one leaves her record as
      //   it was. Before the answer is stored, but never twice, and never over a field corrected since the
      //   referral was noted (a coordinator's correction then is the newer word on how to reach her);
      // - the plan is linked on her person record (only while it is still hers: linkPerson);
      // - and filed under her near-match keys, like her person record.
      const [written] = await Promise.all([
        bringsDetails ? applyReferralDetails(deps.plans, participantId, planId, fresh, now) : undefined,
        matchKey ? deps.plans.linkPerson(matchKey, plan.planId, participantId) : undefined,
        near ? fileNearMatches(deps.plans, near, plan.planId) : undefined,
      ]);
      details = written;
    }
    const view = { ...planView(plan, now), ...referralDetailsReport(referral.participant, plan, details) };
    // What is held: the record this referral made, as it wrote it (an erasure of her waits for this
    // referral's claim; a correction in the instant since the plan was saved would find revision 0 gone
    // and be refused with a 412 if it came with it, not lost); the one its details were written to; the
    // one a replay was checked against, when it brought no details; or else read consistently, beside
    // storing the answer: when the details were not written, a correction made since is.
    const madeNow = created && !outcome.replayed && plan.participantId === participantId;
    const held = madeNow ? { identity: identityOfItem(referral.participant), revision: 0 } : (details?.record ?? (details === undefined ? heldBefore : undefined));
    const [stored, record] = await Promise.all([
      answer(planId, idempotency, outcome.replayed, outcome.replayed ? (outcome.state.replay?.status ?? 201) : 201, view, { location: `/plans/${plan.planId}` }),
      held ?? deps.plans.getIdentityRecord(plan.participantId),
    ]);
    return { ...stored, body: JSON.stringify({ ...view, ...(record ? { participant: record.identity, participantRevision: record.revision } : {}) }) };
  }

  async function planCommand(ctx: RouteContext): Promise<HttpResult> {
    const planId = parseWith(PlanId, ctx.params.planId, 'plan id in the path', 'planId');
    const name = planCommandBySegment(ctx.params.command ?? '');
    if (!name) throw problem(404, `There is no plan command "${ctx.params.command}". Plan commands: ${Object.values(LIFECYCLE).filter((r) => r.target === 'plan' && r.actors.some((a) => a === 'coordinator') && r.segment !== 'refer').map((r) => r.segment).join(', ')}.`);
    return commandResponse(ctx, name, planId);
  }

  /** A team lead picks up an open escalation: a plan command of her own, on a route of its own. */
  async function acknowledgeEscalation(ctx: RouteContext): Promise<HttpResult> {
    const planId = parseWith(PlanId, ctx.params.planId, 'plan id in the path', 'planId');
    return commandResponse(ctx, 'acknowledge-escalation', planId);
  }

  async function allocationCommand(ctx: RouteContext): Promise<HttpResult> {
    const allocationId = parseWith(AllocationId, ctx.params.allocationId, 'allocation id in the path', 'allocationId');
    const name = allocationCommandBySegment(ctx.params.command ?? '');
    if (!name) throw problem(404, `There is no allocation command "${ctx.params.command}". Allocation commands: accept, decline, record-contact, end.`);
    const role = ctx.principal?.role;
    if (!LIFECYCLE[name].actors.some((a) => a === role)) throw problem(403, `A ${role} may not ${ctx.params.command} an allocation.`);
    const planId = planIdOfAllocation(allocationId) as string;
    if (role === 'provider') {
      // Someone else's allocation is refused before anything else is looked at, so a provider cannot
      // learn another provider's plan stage (409) or anything from validation (400).
      // Read consistently, so the execution can take this read as its Load plan instead of reading again.
      const plan = await deps.plans.getPlan(planId);
      // Another provider's allocation is a 404 as an unknown one: a provider cannot count the others on her plan.
      allocationHeldBy(plan, allocationId, ctx.principal?.providerId);
      return commandResponse(ctx, name, planId, allocationId, plan);
    }
    return commandResponse(ctx, name, planId, allocationId);
  }

  async function commandResponse(ctx: RouteContext, name: CommandName, planId: string, allocationId?: string, loaded?: Plan): Promise<HttpResult> {
    const principal = ctx.principal;
    if (!principal) throw problem(401, 'Sign in first.');
    const body = readJsonBody(ctx.event);
    const idempotency = idempotencyOf(ctx, body);
    const { payload, expectedVersion } = splitExpectedVersion(body);
    refuseExpectedVersionFromProvider(principal.role, expectedVersion);
    // Validate here as well as in the domain: bad input never starts an execution.
    parseWith(COMMAND_PAYLOADS[name], payload, `${ctx.params.command ?? LIFECYCLE[name].segment} request`);
    // Audited before it runs: a command without its audit record never happens. A refused command
    // leaves the record of the attempt and changes nothing else. The answer stored for its Idempotency-Key
    // (a retry's) is read beside the audit write, and given out, or the key refused, only once that landed.
    const [audited, stored] = await Promise.allSettled([
      auditAccess(deps.audit, ctx, `command:${name}`, { planId, ...(allocationId ? { allocationId } : {}) }, deps.clock(), principal.role === 'provider' ? 'delivering-the-allocated-service' : principal.role === 'team-lead' ? 'oversight' : 'support-planning'),
      firstResponse(planId, idempotency),
    ]);
    if (audited.status === 'rejected') throw audited.reason;
    if (stored.status === 'rejected') throw stored.reason;
    if (stored.value) return stored.value;
    const actorName = displayNameOf(principal);
    const { state, replayed } = await run({
      name,
      planId,
      payload,
      actor: {
        role: principal.role === 'provider' || principal.role === 'team-lead' ? principal.role : 'coordinator',
        sub: principal.sub,
        ...(actorName ? { name: actorName } : {}),
        ...(principal.providerId ? { providerId: principal.providerId } : {}),
      },
      ...(allocationId ? { allocationId } : {}),
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      ...(idempotency ? { idempotency } : {}),
    }, loaded);
    const plan = state.plan as Plan;
    const status = replayed ? (state.replay?.status ?? 200) : (state.status ?? 200);
    const view = principal.role === 'provider' ? providerAllocationView(plan, allocationId as string) : planView(plan, deps.clock());
    return answer(planId, idempotency, replayed, status, view);
  }

  /** An erasure request held back by plans of hers (lib/domain/erasure-hold.ts: the rule and its words): refused, nothing changed. */
  function openPlansRefusal(planId: string, held: readonly ErasureHeldBy[]) {
    const { detail, errors } = erasureHeldWords(planId, held);
    return problem(409, detail, errors);
  }

  /** An erasure request while a referral of her is being recorded: its plan is about to use her identity. */
  const referringRefusal = (referring: string) =>
    problem(409, `A referral of her is being recorded right now (plan ${referring}): her identity cannot be erased while it is. Look at that plan once it is recorded and end it first, then ask again.`, [
      { path: 'planId', message: `plan ${referring} is being referred right now` },
    ]);

  /** An erasure request while another erasure of her holds her record (or her record kept changing under it). */
  const erasingElsewhereRefusal = () =>
    problem(409, 'Her identity is being erased right now by another request, or her record kept changing while this one was checked: nothing was changed by this request. Look at the plan again in a minute: if it is not marked erased, ask again.', [
      { path: 'planId', message: 'her identity is being erased by another request' },
    ]);

  /**
   * An erasure request while the identity key is not available (her record exists, her other plans cannot
   * be found): a fault of the setup, not of the request, so a 503 that changes nothing, not a 4xx. Logged
   * for operators; the API's 5xx alarm counts it.
   */
  const identityKeyUnavailable = () => {
    console.error('erase-identity: the identity key is not available; the erasure request was refused with 503 and nothing was erased');
    return new HttpProblem(
      503,
      'Service unavailable',
      'The identity key is not available, so her other plans cannot be found: nothing was erased. Ask again later; if this persists, tell the operators (the identity key secret cannot be read).',
    );
  };

  /** An erasure request: identity gone, free text redacted, the pseudonymous plans kept, the request in the audit log. */
  async function eraseIdentityRoute(ctx: RouteContext): Promise<HttpResult> {
    const planId = parseWith(PlanId, ctx.params.planId, 'plan id in the path', 'planId');
    const { reason } = parseWith(ErasePayload, readJsonBody(ctx.event), 'erasure request');
    const plan = await deps.plans.getPlan(planId);
    if (!plan) throw problem(404, `No plan ${planId}.`);
    if (plan.identityErasedAt) throw problem(409, `The identity of plan ${planId} was already erased on ${plan.identityErasedAt.slice(0, 10)}.`);
    const now = deps.clock();
    const outcome = await eraseIdentity({ plans: deps.plans, audit: deps.audit, ...(deps.identityKey ? { identityKey: deps.identityKey } : {}) }, plan, { who: ctx.principal?.sub ?? 'unknown', role: 'coordinator', why: reason, action: 'erase-identity' }, now);
    if (!outcome.done && outcome.waitingForIdentityKey) throw identityKeyUnavailable();
    if (!outcome.done && outcome.erasingElsewhere) throw erasingElsewhereRefusal();
    if (!outcome.done) throw outcome.referring ? referringRefusal(outcome.referring) : openPlansRefusal(planId, outcome.openPlans);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ planId, identityErasedAt: now }) };
  }

  /**
   * A coordinator's correction of how to reach her, where she lives or what she likes to be called.
   * Audited before the write (no record, no change); the same correction sent twice changes nothing
   * more, so it needs no Idempotency-Key.
   *
   * With If-Match (the ETag her details were read with), it is written only if her record is still at
   * that revision, checked in the write itself: a correction made by someone else since, even an
   * instant before, is a 412 and nothing changes (the client shows her details as they now are). The
   * precondition is optional: a correction names only what it changes, so without one it means "set
   * these parts, whatever they hold now", which is what scripts (the CLI, the simulator) mean.
   *
   * What is held afterwards must still be an identity a referral would be accepted with (letters as
   * her preferred contact need an address), so the correction is checked merged with the record it
   * changes, and written only if that record is still at the revision the check saw. Without
   * If-Match, when another change landed in between, the correction is checked again against the
   * record as it now is and written on that; if the two together break the rule, that is the 400
   * naming the field. A record changing under it every time is a 409 after a few tries.
   */
  async function correctIdentityRoute(ctx: RouteContext): Promise<HttpResult> {
    const planId = parseWith(PlanId, ctx.params.planId, 'plan id in the path', 'planId');
    const rawIfMatch = header(ctx.event, 'if-match');
    const ifMatch = rawIfMatch === undefined ? undefined : parseWith(IfMatch, rawIfMatch, 'If-Match header', 'If-Match');
    const correction = parseWith(IdentityCorrection, readJsonBody(ctx.event), 'identity correction');
    const plan = await deps.plans.getPlan(planId);
    if (!plan) throw problem(404, `No plan ${planId}.`);
    if (plan.identityErasedAt) throw problem(409, `The identity of plan ${planId} was erased on ${plan.identityErasedAt.slice(0, 10)}: there is nothing to correct.`);
    // Only while she may still be contacted about this plan (contactDetailsCorrectable, which the web reads too).
    if (!contactDetailsCorrectable(plan))
      throw problem(
        409,
        `Plan ${planId} is ${plan.stage}: nobody contacts her about it any more, so her contact details are not changed on it and nothing was saved. If she is being supported on another plan, correct them there; a new referral of her brings its own.`,
        [{ path: 'planId', message: `plan is ${plan.stage}: contact details are corrected only while it is ${contactCorrectableStages.join(', ')}` }],
      );
    const now = deps.clock();
    const missing = () => problem(404, `No identity is held for plan ${planId}.`);
    const changedSince = (revision: number) =>
      problem(
        412,
        `Her details on plan ${planId} were changed by someone else since you read them (If-Match ${ifMatch}, now ${identityEntityTag(revision)}): nothing was saved. Read the plan again to see them as held now, then make your correction on those.`,
        [{ path: 'If-Match', message: 'her details changed since they were read' }],
      );
    let audited = false;
    for (let attempt = 1; attempt <= IDENTITY_CORRECTION_ATTEMPTS; attempt += 1) {
      const current = await deps.plans.getIdentityRecord(plan.participantId);
      if (!current) throw missing();
      if (ifMatch !== undefined && !ifMatchHolds(ifMatch, current.revision)) throw changedSince(current.revision);
      parseWith(HeldIdentity, correctedIdentity(current.identity, correction), 'identity correction (with what it leaves unchanged)');
      if (!audited) {
        await auditAccess(deps.audit, ctx, 'correct-identity', { planId, participantId: plan.participantId }, now, 'keeping-contact-details-right');
        audited = true;
      }
      const identity = await correctIdentity(deps.plans, plan.participantId, correction, now, current.revision);
      // Written on the revision read, which it moved on by one.
      const revision = current.revision + 1;
      if (identity) return json(200, { planId, participant: identity, participantRevision: revision }, { etag: identityEntityTag(revision) });
    }
    throw problem(409, `Her identity on plan ${planId} kept changing while this correction was checked against it (each correction is checked together with what it leaves unchanged): reload it and try again.`, [
      { path: '(body)', message: 'her identity changed while the correction was checked against it' },
    ]);
  }

  return apiHandler({
    'PATCH /plans/{planId}/participant': correctIdentityRoute,
    'POST /plans/{planId}/erase-identity': eraseIdentityRoute,
    'POST /plans': refer,
    'POST /plans/{planId}/escalations/acknowledge': acknowledgeEscalation,
    'POST /plans/{planId}/{command}': planCommand,
    'POST /allocations/{allocationId}/{command}': allocationCommand,
  }, deps.logger);
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  built ??= makeHandler({ ...awsDeps(), clock: () => new Date().toISOString() });
  return built(...args);
};
