import { consentWithdrawnAt } from './consent.ts';
import type { FieldError } from './errors.ts';
import type { Stage } from './lifecycle.ts';
import { isAllowedIn, OPEN_STAGES } from './lifecycle-table.ts';
import type { Plan } from './schemas.ts';

/**
 * Why a plan of hers holds back a request to erase her identity: the one rule, which the erasure
 * (lib/runtime/erasure.ts) refuses by and the API words its 409 with (erasureHeldWords).
 * - `open` (referred, assessment, allocating, active): without her identity it would stay on the
 *   worklist, escalate for nobody, and let her be referred twice, as nobody would know her.
 * - `awaiting-follow-ups`: exited, with her 6- and 12-month follow-ups still to be asked (her consent
 *   not withdrawn, which cancels them). A follow-up asks whether she reoffended, which is looked up by
 *   who she is, so without her identity it would be reminded and escalated for nobody.
 * The erasure form (web/src/pages/identity.tsx) reads the rule and its words from here too, so this
 * module imports nothing but other modules the web app carries (test/browser/web-constants.test.ts).
 */
export type ErasureHold = 'open' | 'awaiting-follow-ups';

export function erasureHold(plan: Pick<Plan, 'stage'> & Parameters<typeof consentWithdrawnAt>[0]): ErasureHold | undefined {
  if ((OPEN_STAGES as readonly string[]).includes(plan.stage)) return 'open';
  if (plan.stage === 'exited' && !consentWithdrawnAt(plan)) return 'awaiting-follow-ups';
  return undefined;
}

/** A plan of hers that holds an erasure request back, and why. */
export interface ErasureHeldBy {
  planId: string;
  stage: Stage;
  hold: ErasureHold;
}

const FOLLOW_UPS_REMEDY = 'record them, or, if she asked to be forgotten, record her consent withdrawn (which cancels them and closes the plan)';

/**
 * A plan waiting for its follow-ups, in words: what holds the erasure back (`held`, of the plan named
 * `plan`) and what ends the hold (`remedy`). The 409's words and the erasure form's ("This plan is
 * waiting for its follow-ups: record them, … first").
 */
export function waitingForFollowUpsWords(plan: string): { held: string; remedy: string } {
  return { held: `${plan} is waiting for its follow-ups`, remedy: `${FOLLOW_UPS_REMEDY} first` };
}

const waitingWords = (plan: string) => {
  const { held, remedy } = waitingForFollowUpsWords(plan);
  return `${held}: ${remedy}`;
};

/** What the coordinator can do in an open plan's stage so it no longer holds the erasure (the lifecycle table says which). */
const endingsOf = (stage: Stage) =>
  [isAllowedIn('exit', stage) ? 'exit it' : undefined, isAllowedIn('withdraw', stage) ? 'withdraw the referral' : undefined, isAllowedIn('withdraw-consent', stage) ? 'record her consent withdrawn' : undefined]
    .filter(Boolean)
    .join(' or ');

/**
 * The refusal of an erasure request of plan `planId` held back by `held`: its detail, and one error on
 * planId per plan, each naming what ends the hold. Ending a plan is the coordinator's call, and her
 * consent withdrawn has its own command, which tells providers to stop and purge: the erasure does
 * neither on its own.
 */
export function erasureHeldWords(planId: string, held: readonly ErasureHeldBy[]): { detail: string; errors: FieldError[] } {
  const waiting = (p: ErasureHeldBy) => p.hold === 'awaiting-follow-ups';
  const label = (p: ErasureHeldBy) => (p.planId === planId ? 'this plan' : `her plan ${p.planId}`);
  const named = held.map((p) => (waiting(p) ? waitingWords(label(p)) : `${label(p)} (stage ${p.stage}): ${endingsOf(p.stage)} first`)).join('; ');
  return {
    detail: `Her identity cannot be erased while a plan of hers is ${held.some(waiting) ? 'open or waiting for its follow-ups' : 'open'}. ${named[0]?.toUpperCase()}${named.slice(1)}, then ask again.`,
    errors: held.map((p) => ({ path: 'planId', message: waiting(p) ? waitingWords(`plan ${p.planId}`) : `plan ${p.planId} is open (stage ${p.stage}): ${endingsOf(p.stage)} first` })),
  };
}
