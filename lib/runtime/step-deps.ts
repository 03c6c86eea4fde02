import { createHash, randomUUID } from 'node:crypto';
import type { WorkingDayCalendar } from '../domain/calendar.ts';
import type { DecideContext } from '../domain/decide.ts';
import type { Directory } from '../domain/directory.ts';
import { DomainError } from '../domain/errors.ts';
import { planFacts } from '../domain/metrics/facts.ts';
import type { Plan } from '../domain/schemas.ts';
import type { DeadlinePolicy } from '../domain/policy.ts';
import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import type { EventPublisher } from '../adapters/events/publisher.ts';
import type { DirectoryStore } from '../adapters/dynamodb/directory-store.ts';

/** What the PlanCommand steps need; the AWS entry points and the embedded stack each build one. */
export interface StepDeps {
  plans: PlanRepository;
  /** The directory file: organisations and services; capacity and status come from `services`. */
  baseDirectory: Directory;
  services: DirectoryStore;
  policy: DeadlinePolicy;
  calendar: WorkingDayCalendar;
  publisher: EventPublisher;
  newEventId?: () => string;
}

/**
 * The domain's context. The directory's live capacity and status are read only when asked for
 * (allocation and manual offers), so ordinary commands cost no extra read.
 */
export async function decideContext(deps: StepDeps, now: string, liveDirectory = false): Promise<DecideContext> {
  const directory = liveDirectory ? (await deps.services.current(deps.baseDirectory)).directory : deps.baseDirectory;
  return { now, newEventId: deps.newEventId ?? randomUUID, policy: deps.policy, calendar: deps.calendar, directory };
}

/**
 * Step Functions keeps only an error's name and message. A domain refusal crosses the boundary with
 * its name (matched by Catch) and a JSON message holding the detail and the field errors.
 */
export async function asStep<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) {
      const crossing = new Error(error.toCause());
      crossing.name = error.name;
      throw crossing;
    }
    throw error;
  }
}

/**
 * A short digest of the plan's metric facts, leaving out the plan version they were taken from.
 * Load plan takes it of the plan as loaded and Publish events of the plan as saved: the same digest
 * means the command changed no commissioner figure (a contact, for one), so no facts write is needed.
 * Pure: no read of the stored facts.
 */
export function metricFactsKey(plan: Plan): string {
  const { version: _version, ...facts } = planFacts(plan);
  return createHash('sha256').update(JSON.stringify(facts)).digest('base64url').slice(0, 22);
}
