import * as z from 'zod';
import { ACTORS, contactCorrectableStages, contactDetailsCorrectable, isAllowedIn, LIFECYCLE, nextInWords, OPEN_STAGES, stageMoves, type Actor, type CommandName, type LifecycleRow } from './lifecycle-table.ts';
import { STAGES } from './vocabulary.ts';

/**
 * The lifecycle table: the one place that says which command may be sent in which stage, by whom,
 * and which stages it can lead to. The domain validates with it, the PlanCommand state machine's
 * Guard and Route Choice states are generated from it, and docs/lifecycle.md is rendered from it.
 * The table itself is in lifecycle-table.ts (no zod, so the web app carries it too); here are the
 * zod schemas and the lookups made from it.
 */

/** `none` is the stage of a plan that does not exist yet: only `refer` is allowed there. */
export { STAGES };
export const Stage = z.enum(STAGES);
export type Stage = z.infer<typeof Stage>;
/**
 * A closed plan changes no more, save a correction of a recorded follow-up (the 12-month one closes
 * the plan as it is recorded, so a mis-keyed answer would otherwise stay in the figures for good).
 */
export const TERMINAL_STAGES: readonly Stage[] = ['closed', 'withdrawn'];

export { ACTORS, contactCorrectableStages, contactDetailsCorrectable, isAllowedIn, LIFECYCLE, nextInWords, OPEN_STAGES, stageMoves, type Actor, type CommandName, type LifecycleRow };

export const COMMAND_NAMES = Object.keys(LIFECYCLE) as CommandName[];
export const CommandNameSchema = z.enum(COMMAND_NAMES as [CommandName, ...CommandName[]]);
export const TIMER_COMMANDS = COMMAND_NAMES.filter((name) => LIFECYCLE[name].actors.some((a) => a === 'timer'));
export type TimerCommand = Extract<CommandName, 'assessment-overdue' | 'offer-expired' | 'activation-overdue' | 'review-due' | 'review-overdue' | 'no-contact' | 'follow-up-due'>;

export function lifecycleRow(command: CommandName): LifecycleRow {
  return LIFECYCLE[command];
}

export function mayBeSentBy(command: CommandName, actor: Actor): boolean {
  return (LIFECYCLE[command].actors as readonly Actor[]).includes(actor);
}

/** Coordinator commands addressed to a plan (`POST /plans/{planId}/{segment}`); the team lead's acknowledgement has its own route. */
export function planCommandBySegment(segment: string): CommandName | undefined {
  return COMMAND_NAMES.find((name) => LIFECYCLE[name].target === 'plan' && LIFECYCLE[name].segment === segment && name !== 'refer' && !TIMER_COMMANDS.includes(name) && mayBeSentBy(name, 'coordinator'));
}

/** Commands addressed to an allocation (`POST /allocations/{allocationId}/{segment}`). */
export function allocationCommandBySegment(segment: string): CommandName | undefined {
  return COMMAND_NAMES.find((name) => LIFECYCLE[name].target === 'allocation' && LIFECYCLE[name].segment === segment);
}

export const COORDINATOR_PLAN_COMMANDS = COMMAND_NAMES.filter(
  (name) => name !== 'refer' && LIFECYCLE[name].target === 'plan' && mayBeSentBy(name, 'coordinator'),
);
