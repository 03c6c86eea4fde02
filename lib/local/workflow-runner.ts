import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { TASK_BINDINGS } from '../../workflows/plan-command/definition.ts';
import type { StepFunctionName } from '../../workflows/plan-command/steps.ts';
import type { ExecutionOutcome, PlanCommandInput, PlanCommandState, WorkflowStarter } from '../../workflows/plan-command/state.ts';

export type StepHandlers = Record<StepFunctionName, (state: PlanCommandState) => Promise<PlanCommandState>>;

/**
 * Runs the PlanCommand ASL (rendered from the same CDK chain as the deployed state machine) with
 * aws-local-stepfunctions, each Task state bound by name to the in-process step handler.
 * Retry intervals are shortened to milliseconds: the retry logic is the definition's, only the waits differ.
 */
export class LocalWorkflowRunner implements WorkflowStarter {
  readonly machine: StateMachine;
  readonly handlers: Record<string, (input: unknown) => Promise<unknown>>;
  readonly retryIntervals: Record<string, number>;

  constructor(definition: object, steps: StepHandlers, retryIntervalMs = 20) {
    this.machine = new StateMachine(definition as never);
    this.handlers = Object.fromEntries(
      Object.entries(TASK_BINDINGS).map(([stateName, fn]) => [stateName, (input: unknown) => steps[fn](input as PlanCommandState)]),
    );
    this.retryIntervals = Object.fromEntries(Object.keys(TASK_BINDINGS).map((s) => [s, retryIntervalMs]));
  }

  async startSync(input: PlanCommandInput): Promise<ExecutionOutcome> {
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.handlers as never, retryIntervalOverrides: this.retryIntervals },
    });
    try {
      const output = (await execution.result) as unknown as PlanCommandState;
      return { status: 'SUCCEEDED', output };
    } catch (error) {
      // A Fail state (or an uncaught task error) ends the execution: report it as StartSyncExecution would.
      const failure = error instanceof ExecutionError ? (error.cause as Error) : (error as Error);
      return { status: 'FAILED', error: failure?.name ?? 'States.Runtime', cause: failure?.message ?? String(error) };
    }
  }
}
