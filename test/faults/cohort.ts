/**
 * The simulated cohort: what coordinators and providers do with each plan, driven over HTTP by the
 * patient client (every command with its own Idempotency-Key, retried until a non-5xx answer).
 */
import { NEED_DOMAINS } from '../../lib/domain/taxonomy.ts';
import type { Json } from '../support/http.ts';
import type { PatientClient } from './client.ts';

export interface Actors {
  coordinator: { token: string; sub: string };
  provider: Record<string, { token: string; sub: string }>;
}

const AREAS = ['birmingham', 'coventry', 'dudley', 'sandwell', 'solihull', 'walsall', 'wolverhampton'];
const SOURCES = ['custody-diversion', 'out-of-court-disposal', 'probation', 'self', 'other-agency', 'problem-solving-court'];
const EXIT_REASONS = ['completed', 'transferred', 'disengaged', 'moved-away', 'custody', 'other'];

const pick = <T>(list: readonly T[], draw: () => number): T => list[Math.floor(draw() * list.length)] as T;

export interface CohortContext {
  client: PatientClient;
  actors: Actors;
  /** Today on the stack's clock (YYYY-MM-DD). */
  today(): string;
  /** A key unique to this run, plan and step. */
  key(plan: number, step: string): string;
}

/** Her identity: unique per plan, so no referral is a duplicate of another. */
function participant(i: number) {
  const dob = new Date(Date.UTC(1960, 0, 1) + i * 86_400_000 * 13).toISOString().slice(0, 10);
  return { givenName: `Faulty`, familyName: `Cohort-${i}`, dateOfBirth: dob };
}

/**
 * One plan from referral to where it stops: withdrawn early (8%), or consent, assessment, the
 * providers' answers, activation, contacts and a review, then exit (70%), consent withdrawn (7%),
 * or still open. Returns the plan id (derived from the referral's key, so known even when the
 * referral's own answer was a refusal).
 */
export async function runPlan(ctx: CohortContext, i: number, draw: () => number): Promise<string | undefined> {
  const { client, actors } = ctx;
  const coordinator = actors.coordinator;
  const cmd = (planId: string, command: string, body: unknown, step = command) =>
    client.command(planId, command, 'POST', `/plans/${planId}/${command}`, coordinator.token, coordinator.sub, body, ctx.key(i, step));
  const read = async (planId: string): Promise<Json> => (await client.send('GET', `/plans/${planId}`, coordinator.token)).json;

  const referral = {
    participant: participant(i),
    referral: { source: pick(SOURCES, draw), localAuthority: pick(AREAS, draw), urgency: draw() < 0.2 ? 'urgent' : 'routine' },
  };
  const referred = await client.command('', 'refer', 'POST', '/plans', coordinator.token, coordinator.sub, referral, ctx.key(i, 'refer'));
  if (referred.status !== 201) return undefined;
  const planId = referred.json.planId as string;

  if (draw() < 0.08) {
    await cmd(planId, 'withdraw', { reason: pick(['not-eligible', 'declined-support', 'unreachable'], draw) });
    return planId;
  }
  if ((await cmd(planId, 'record-consent', { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: ctx.today(), method: 'written' })).status !== 200) return planId;

  const domains = new Set<string>();
  const wanted = 1 + Math.floor(draw() * 3);
  while (domains.size < wanted) domains.add(pick(NEED_DOMAINS, draw));
  const needs = [...domains].map((domain, n) => ({ domain, level: pick(['low', 'medium', 'high'], draw), priority: n === 0 || draw() < 0.4 }));
  if ((await cmd(planId, 'submit-assessment', { needs })).status !== 200) return planId;

  // The providers answer their offers (a decline sends the need on to the next candidate).
  const answered = new Set<string>();
  let plan = await read(planId);
  for (let round = 0; round < 3; round += 1) {
    const open = ((plan?.allocations ?? []) as Json[]).filter((a) => a.status === 'offered' && !answered.has(a.allocationId));
    if (open.length === 0) break;
    for (const offer of open) {
      answered.add(offer.allocationId);
      const provider = actors.provider[offer.providerId];
      if (!provider) continue;
      const decline = draw() < 0.25;
      await client.command(planId, decline ? 'decline' : 'accept', 'POST', `/allocations/${offer.allocationId}/${decline ? 'decline' : 'accept'}`, provider.token, provider.sub, decline ? { reason: pick(['capacity', 'eligibility', 'location'], draw) } : {}, ctx.key(i, `answer-${offer.allocationId}`));
    }
    plan = await read(planId);
  }
  if (plan?.stage === 'allocating') {
    await cmd(planId, 'activate', { reason: 'Starting with the support in place; gaps recorded.' });
    plan = await read(planId);
  }

  if (plan?.stage === 'active') {
    const held = ((plan.allocations ?? []) as Json[]).filter((a) => a.status === 'accepted');
    const contacts = held.length ? 1 + Math.floor(draw() * 2) : 0;
    for (let c = 0; c < contacts; c += 1) {
      const allocation = pick(held, draw);
      const provider = actors.provider[allocation.providerId];
      if (!provider) continue;
      await client.command(planId, 'record-contact', 'POST', `/allocations/${allocation.allocationId}/record-contact`, provider.token, provider.sub, { date: ctx.today(), kind: pick(['attended', 'attended', 'missed', 'cancelled'], draw) }, ctx.key(i, `contact-${c}`));
    }
    const open = ((plan.needs ?? []) as Json[]).filter((n) => n.status === 'open');
    if (open.length && draw() < 0.5) {
      await cmd(planId, 'record-review', { scores: Object.fromEntries(open.map((n) => [n.domain, 1 + Math.floor(draw() * 10)])), outcome: 'continue', participantWords: 'Getting there.' });
    }
  }

  const ending = draw();
  if (ending < 0.7) await cmd(planId, 'exit', { reason: pick(EXIT_REASONS, draw) });
  else if (ending < 0.77) await cmd(planId, 'withdraw-consent', { note: 'Asked us to stop.' });
  return planId;
}

/** Months after an ISO instant, as the follow-up rule counts them (plus a day of margin). */
export function monthsAfter(iso: string, months: number): number {
  const d = new Date(iso);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime() + 86_400_000;
}
