import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../adapters/dynamodb/audit-log.ts';
import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { clearErasingMark, forgetMarkedPerson, forgetPersonOf, markErasing } from '../adapters/dynamodb/identity-store.ts';
import { identityMatchKey, identityMatchKeyBeforeOtherScripts } from '../adapters/identity-match.ts';
import { nearMatchKeys } from '../adapters/near-match.ts';
import { forgetNearMatches } from '../adapters/dynamodb/near-match-store.ts';
import { erasureHold, type ErasureHeldBy } from '../domain/erasure-hold.ts';
import { redactAnswerText, redactEvent, redactPlan } from '../domain/redaction.ts';
import type { Plan } from '../domain/schemas.ts';

export interface ErasureDeps {
  plans: PlanRepository;
  audit: AuditLog;
  identityKey?: () => Promise<Uint8Array | undefined>;
}

/**
 * A claim on a person older than this whose plan never appeared belongs to a referral that died. Longer
 * than a referral can run on AWS (the commands function stops at 29 s, and the Express execution it
 * started ends within 5 minutes), so the claim of a referral that can still save its plan is never
 * taken for a dead one's and her record is never erased under it.
 */
const REFERRAL_CLAIM_TIMEOUT_MS = 6 * 60_000;

/** When a referral's claim made at `claimedAt` stops counting as in flight, should its referral have died: from then on another referral of her may go ahead. */
export const referralClaimEndsAt = (claimedAt: string): string => new Date(Date.parse(claimedAt) + REFERRAL_CLAIM_TIMEOUT_MS).toISOString();

/**
 * An erasure's mark on her person record older than this belongs to an erasure that died (on AWS one
 * runs in the commands function, 29 s at most, or the sweeper, 55 s). A referral of her then clears it
 * and goes ahead, and another erasure replaces it, so a crash never blocks her for good. A live erasure
 * whose mark went stale anyway does not delete her record under the referral that cleared it: it
 * deletes her person record only while its own mark is on it (identity-store.ts forgetMarkedPerson).
 */
const ERASURE_MARK_TIMEOUT_MS = 2 * 60_000;

/** Marks begun before this are stale at `now`. */
export const erasureStaleBefore = (now: string) => new Date(Date.parse(now) - ERASURE_MARK_TIMEOUT_MS).toISOString();

/** Whether an erasure of her is under way at `now`: a mark on her person record that is not stale. */
export const erasureUnderWay = (mark: { at: string } | undefined, now: string): boolean => mark !== undefined && mark.at >= erasureStaleBefore(now);

/** How often an erasure reads her records again when a referral or another erasure changed her person record under it. */
const ERASURE_ATTEMPTS = 3;

/**
 * The plan id of a referral of her being recorded right now, if any: a claim on her person record, by
 * a plan other than `planId` that is not among the plans `found`, younger than REFERRAL_CLAIM_TIMEOUT_MS.
 * Erasure and the referral route (a second referral of her meanwhile) use this one rule.
 */
export function referralInFlight(claim: { planId: string; at: string } | undefined, planId: string, found: readonly (Plan | undefined)[], now: string): string | undefined {
  if (!claim || claim.planId === planId || found.some((p) => p?.planId === claim.planId)) return undefined;
  return Date.parse(now) - Date.parse(claim.at) < REFERRAL_CLAIM_TIMEOUT_MS ? claim.planId : undefined;
}

export type ErasureOutcome =
  /** Done: `identityErased` says whether her identity record itself went (on retention it can stay for her other plans). */
  | { done: true; identityErased: boolean }
  /**
   * Nothing changed: for an erasure request, these plans of hers (this one among them, if it does) hold
   * it back, each with why (erasureHold: open, or exited with follow-ups still to come), or a referral of
   * her (`referring`, the plan id it is recording) is under way; for a
   * request or retention alike, `waitingForIdentityKey`: her record exists but the identity key is not
   * available, so her other plans cannot be found.
   */
  | {
      done: false;
      openPlans: ErasureHeldBy[];
      referring?: string;
      waitingForIdentityKey?: true;
      /** Another erasure of her holds her person record (its mark is not stale), or her record kept changing under this one. */
      erasingElsewhere?: true;
    };

/**
 * Erase a participant's identity (the whole identity record: name, date of birth, contact details,
 * safety notes and address) and the keyed link between her plans, and replace what was typed in words
 * on her plans (goals, notes, her words at reviews, reasons: lib/domain/redaction.ts) in the plan, its
 * history and the answers kept for retries; keep the pseudonymous plan (the figures stay right), and
 * record who did it and why. Used for an erasure request and by the sweeper when a closed plan's
 * retention period ends.
 *
 * A woman referred again shares one identity record between her plans.
 *
 * An erasure request is refused, changing nothing, while any plan of hers is open (referred,
 * assessment, allocating, active): an open plan without her identity would stay on the worklist,
 * escalate for nobody, and let her be referred twice, as nobody would know her. The coordinator ends it
 * first (exit, withdraw the referral, or her consent withdrawn, which also tells providers to stop and
 * purge), a decision with consequences for her support that an erasure should not take silently. Without
 * the identity key (her record exists) it does nothing either (`waitingForIdentityKey`): her other plans
 * cannot be found, and erasing this one alone would leave her record or her words on them. An
 * exited plan whose follow-ups are still to come refuses it too (erasureHold, lib/domain): they are looked up
 * by who she is. If she asked to be forgotten, her consent withdrawn cancels them (recorded as not
 * known, counted in no figure), tells providers to purge and closes the plan; then the erasure goes
 * ahead. Once none holds it, it erases the record at once, for every plan of hers, and redacts and
 * marks them all.
 *
 * On retention (`anonymise`) the record stays while another of her plans still uses it (an open plan,
 * or one whose own retention period has not ended): this plan alone is redacted and marked erased and no
 * longer shows it, and the last plan's anonymisation erases it. Without the identity key her other
 * plans cannot be found, so nothing is done (`waitingForIdentityKey`) and a later run, with the key,
 * anonymises the plan: marking it with her record kept would leave the record for good if this was her
 * last plan, since marked plans are not looked at again. While a referral of her is being recorded its
 * plan is not linked yet, so the record is kept (that plan's own anonymisation erases it).
 *
 * A referral of her at the same moment: her records are read and judged, then her person record (what a
 * referral claims) is marked `erasing` in one conditional write that holds only if no referral claimed
 * her since (identity-store.ts markErasing); a referral's claim holds only while no live mark is there.
 * So either the referral claimed first, and the erasure reads again and is refused (a request) or keeps
 * her record (retention), changing nothing; or the erasure marked first, and the referral is refused.
 * Another erasure's live mark refuses this one (`erasingElsewhere`), changing nothing.
 */
export async function eraseIdentity(deps: ErasureDeps, plan: Plan, by: { who: string; role: string; why: string; action: 'erase-identity' | 'anonymise' }, now: string): Promise<ErasureOutcome> {
  for (let attempt = 1; attempt <= ERASURE_ATTEMPTS; attempt += 1) {
    const identity = await deps.plans.getIdentity(plan.participantId);
    const secret = await deps.identityKey?.();
    const matchKey = identity && secret ? identityMatchKey(secret, identity) : undefined;
    // Without the key her other plans cannot be found: a setup fault, not her request's. Nothing is done,
    // for a request (answered 503, to be asked again) as for retention (a later run with the key does it).
    if (identity && !matchKey) return { done: false, openPlans: [], waitingForIdentityKey: true };
    const person = matchKey ? await deps.plans.findPerson(matchKey) : undefined;
    // A name with no letter a-z linked her plans under another key before such names kept their letters
    // (identity-match.ts): her plans of then are found there (those of her participant id; the key was
    // shared by every such woman born on her day), so an open one still holds a request back.
    const keyBefore = identity && secret ? identityMatchKeyBeforeOtherScripts(secret, identity) : undefined;
    const personBefore = keyBefore ? await deps.plans.findPerson(keyBefore) : undefined;
    const plansBefore = personBefore?.participantId === plan.participantId ? personBefore.planIds : [];
    const claim = person?.claim;
    const linkedIds = [...new Set([...(person?.planIds ?? []), ...plansBefore, ...(claim ? [claim.planId] : []), ...plan.previousPlanIds])].filter((id) => id !== plan.planId);
    const found = await Promise.all(linkedIds.map((id) => deps.plans.getPlan(id)));
    const linked = found.filter((p): p is Plan => p?.participantId === plan.participantId);
    // A referral of her claimed the person and has not saved its plan yet: it is about to use her record.
    const referring = referralInFlight(claim, plan.planId, found, now);

    if (by.action === 'erase-identity') {
      const held = [plan, ...linked].flatMap((p): ErasureHeldBy[] => {
        const hold = erasureHold(p);
        return hold ? [{ planId: p.planId, stage: p.stage, hold }] : [];
      });
      if (held.length > 0 || referring) return { done: false, openPlans: held, ...(referring ? { referring } : {}) };
    }
    const stillUsing = linked.filter((p) => !p.identityErasedAt);
    const keep = by.action === 'anonymise' && (stillUsing.length > 0 || Boolean(referring));
    // Her person record is what a referral of her claims: before anything is deleted it is marked, on
    // condition that the claim on it is still the one judged above, so a referral that claimed her since
    // is not erased from under; from then on no referral can claim her until the mark is gone. Changing
    // nothing yet: when the condition fails, her records are read and judged again.
    // Only a record of this participant is hers to take: after an erasure that failed between deleting her
    // person record and her identity record, a referral of her meanwhile made one of someone new, whose link
    // (and duplicate check) must stay.
    const mark = !keep && matchKey && person?.participantId === plan.participantId ? { id: randomUUID(), at: now } : undefined;
    if (mark && matchKey && !(await markErasing(deps.plans, matchKey, { participantId: plan.participantId, ...(claim ? { claim } : {}) }, mark, erasureStaleBefore(now)))) {
      if (erasureUnderWay((await deps.plans.findPerson(matchKey))?.erasing, now)) return { done: false, openPlans: [], erasingElsewhere: true };
      continue;
    }
    try {
      // Audit first: if the record cannot be written, nothing is erased.
      await deps.audit.record({ who: by.who, role: by.role, action: by.action, planId: plan.planId, participantId: plan.participantId, why: by.why, at: now });
      // Her other plans before this one, whose mark comes last: a request that fails part-way leaves this plan
      // unmarked, so asking again finishes it (each step can be done twice).
      if (by.action === 'erase-identity') for (const other of linked) await redactAll(deps, other.planId, now);
    } catch (error) {
      // Taken off again, so neither a referral nor the erasure asked again waits for it (if this fails too,
      // it goes stale: ERASURE_MARK_TIMEOUT_MS).
      if (mark && matchKey) await clearErasingMark(deps.plans, matchKey, mark.id).catch(() => undefined);
      throw error;
    }
    let identityErased = false;
    if (!keep) {
      // Her person record goes only while this erasure's mark is on it, and her identity record only after it.
      // Missed only when the mark went stale and a referral of her cleared it by claiming her: that referral
      // is about to use her record, so it stays (a request is refused, as while any referral is in flight).
      const forgotten = !mark || !matchKey || (await forgetMarkedPerson(deps.plans, matchKey, mark.id)) || !(await deps.plans.findPerson(matchKey));
      if (!forgotten) {
        const claimant = (await deps.plans.findPerson(matchKey as string))?.claim?.planId;
        if (by.action === 'erase-identity') return { done: false, openPlans: [], ...(claimant ? { referring: claimant } : { erasingElsewhere: true as const }) };
      } else if (identity) {
        // Her near-match items before her identity record, whose name and date of birth give their keys: a
        // failure in between leaves both, and the erasure asked again finishes it.
        if (secret) await forgetNearMatches(deps.plans, nearMatchKeys(secret, identity), [plan.planId, ...linkedIds]);
        // The link between her plans of then too (only while it is still hers), before her record likewise.
        if (keyBefore && plansBefore.length > 0) await forgetPersonOf(deps.plans, keyBefore, plan.participantId);
        await deps.plans.deleteIdentity(plan.participantId);
        identityErased = true;
      }
    }
    // Her record kept for her other plans: this plan alone leaves her near-match items (it warns of nothing once closed).
    if (identity && secret && !identityErased) await forgetNearMatches(deps.plans, nearMatchKeys(secret, identity), [plan.planId]);
    await redactAll(deps, plan.planId, now);
    return { done: true, identityErased };
  }
  // Her person record changed under every try (referrals of her, or erasures, one after another).
  return { done: false, openPlans: [], erasingElsewhere: true };
}

/** Her free text gone from one plan, its history and its kept answers; the plan marked erased (last). */
async function redactAll(deps: ErasureDeps, planId: string, now: string): Promise<void> {
  await deps.plans.redactHistory(planId, redactEvent);
  await deps.plans.redactStoredResponses(planId, redactAnswerText);
  await deps.plans.redactPlanAndMarkErased(planId, redactPlan, now);
}
