import type { Command } from '../../lib/domain/decide.ts';
import type { Stage } from '../../lib/domain/lifecycle.ts';
import type { Plan } from '../../lib/domain/schemas.ts';

/** What the API (or the sweeper) starts an execution with. `now` is fixed once, for the whole execution. */
export interface PlanCommandInput {
  command: Command;
  now: string;
  /** The plan as the caller has just read it (consistently): Load plan takes it instead of reading again. */
  loaded?: Plan;
}

/** The state passed from step to step: each Task gets all of it and returns all of it. */
export interface PlanCommandState extends PlanCommandInput {
  stage?: Stage;
  /** Set by Load plan when her consent was withdrawn: the Guard's refusal then says so. */
  consentWithdrawnAt?: string;
  /** Set by Load plan when the stage refuses a command on an allocation that has ended: the Guard's refusal says so, in these words. */
  allocationClosed?: string;
  plan?: Plan;
  /** Set by Load plan when this Idempotency-Key was already applied: the first result is returned. */
  replay?: { status: number; version: number };
  changed?: boolean;
  needsAllocation?: boolean;
  status?: number;
  /** Names the capacity holds this execution reserved, so a failed save gives back only its own. */
  holdToken?: string;
  /** Digest of the loaded plan's metric facts, when they are known to be stored (metricFactsKey). */
  factsBefore?: string;
}

/** How an execution ended, whichever runner ran it. */
export type ExecutionOutcome =
  | { status: 'SUCCEEDED'; output: PlanCommandState }
  | { status: 'FAILED'; error: string; cause: string };

/** Starts one synchronous PlanCommand execution: StartSyncExecution on AWS, the local runner embedded. */
export interface WorkflowStarter {
  startSync(input: PlanCommandInput): Promise<ExecutionOutcome>;
}
