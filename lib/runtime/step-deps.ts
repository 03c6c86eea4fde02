import { randomUUID } from 'node:crypto';
import type { WorkingDayCalendar } from '../domain/calendar.ts';
import type { DecideContext } from '../domain/decide.ts';
import type { Directory, ServiceLoad } from '../domain/directory.ts';
import { DomainError } from '../domain/errors.ts';
import type { DeadlinePolicy } from '../domain/policy.ts';
import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import type { EventPublisher } from '../adapters/events/publisher.ts';

/** What the PlanCommand steps need; the AWS entry points and the embedded stack each build one. */
export interface StepDeps {
  plans: PlanRepository;
  directory: () => Promise<Directory>;
  serviceLoad: () => Promise<ServiceLoad>;
  policy: DeadlinePolicy;
  calendar: WorkingDayCalendar;
  publisher: EventPublisher;
  newEventId?: () => string;
}

export async function decideContext(deps: StepDeps, now: string): Promise<DecideContext> {
  return { now, newEventId: deps.newEventId ?? randomUUID, policy: deps.policy, calendar: deps.calendar, directory: await deps.directory() };
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
