import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { stepOfPlaceholderArn } from '../../workflows/plan-command/asl.ts';
import type { StepFunctionName } from '../../workflows/plan-command/steps.ts';
import type { ExecutionOutcome, PlanCommandInput, PlanCommandState, WorkflowStarter } from '../../workflows/plan-command/state.ts';

export type StepHandlers = Record<StepFunctionName, (state: PlanCommandState) => Promise<PlanCommandState>>;

/**
 * The parts of the state only Task handlers read (the definition's paths name none of them): the plan
 * (~10 KB, with the last 50 commands applied) and the plan a provider command's API read passed in.
 * aws-local-stepfunctions copies the whole state at every state it enters, so an execution keeps these
 * beside the interpreter and hands them to each Task itself (test/workflows/workflow-runner.test.ts checks the paths).
 */
export const TASK_ONLY_FIELDS = ['plan', 'loaded'] as const;
type TaskOnly = Partial<Pick<PlanCommandState, (typeof TASK_ONLY_FIELDS)[number]>>;

function setAside(state: PlanCommandState): { light: PlanCommandState; held: TaskOnly } {
  const light: Record<string, unknown> = { ...state };
  const held: Record<string, unknown> = {};
  for (const field of TASK_ONLY_FIELDS) {
    if (field in light) held[field] = light[field];
    delete light[field];
  }
  return { light: light as unknown as PlanCommandState, held: held as TaskOnly };
}

/**
 * Every Task state of the definition and the step function its placeholder `Resource` names (the same
 * pairs as TASK_BINDINGS in definition.ts, which test/workflows/asl.test.ts checks; read from the
 * definition so that running it does not load aws-cdk-lib).
 */
function taskBindings(definition: object): Record<string, StepFunctionName> {
  const states = (definition as { States?: Record<string, { Type?: string; Resource?: string }> }).States ?? {};
  const bindings: Record<string, StepFunctionName> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    const step = stepOfPlaceholderArn(state.Resource ?? '');
    if (!step) throw new Error(`Task state "${name}" names no step function (Resource ${state.Resource})`);
    bindings[name] = step;
  }
  return bindings;
}

/**
 * Runs the PlanCommand ASL (rendered from the same CDK chain as the deployed state machine) with
 * aws-local-stepfunctions, each Task state bound to the in-process step handler.
 * Retry intervals are shortened to milliseconds: the retry logic is the definition's, only the waits differ.
 */
export class LocalWorkflowRunner implements WorkflowStarter {
  readonly machine: StateMachine;
  readonly handlers: Record<string, (input: unknown) => Promise<unknown>>;
  readonly retryIntervals: Record<string, number>;
  /** The executions started and not yet ended, so the embedded stack's stop() can let them finish before it closes the store. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(definition: object, steps: StepHandlers, retryIntervalMs = 20) {
    this.machine = new StateMachine(definition as never);
    this.handlers = Object.fromEntries(
      Object.entries(taskBindings(definition)).map(([stateName, fn]) => [stateName, (input: unknown) => steps[fn](input as PlanCommandState)]),
    );
    this.retryIntervals = Object.fromEntries(Object.keys(this.handlers).map((s) => [s, retryIntervalMs]));
  }

  /** How many executions are running. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Resolves once no execution is running (including those started while it waits). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  startSync(input: PlanCommandInput): Promise<ExecutionOutcome> {
    const execution = this.execute(input);
    this.running.add(execution);
    const done = () => this.running.delete(execution);
    execution.then(done, done);
    return execution;
  }

  private async execute(input: PlanCommandInput): Promise<ExecutionOutcome> {
    // What the last Task that succeeded returned for the fields set aside: a Task's output is the whole
    // next state, and a Catch or a Pass state keeps the state as that Task's output left it.
    const start = setAside(input as PlanCommandState);
    let held = start.held;
    const handlers = Object.fromEntries(
      Object.entries(this.handlers).map(([stateName, handler]) => [
        stateName,
        async (state: unknown) => {
          const output = setAside((await handler({ ...(state as PlanCommandState), ...held })) as PlanCommandState);
          held = output.held;
          return output.light;
        },
      ]),
    );
    const execution = this.machine.run(start.light as never, {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: this.retryIntervals },
    });
    try {
      const output = { ...((await execution.result) as unknown as PlanCommandState), ...held };
      return { status: 'SUCCEEDED', output };
    } catch (error) {
      // A Fail state (or an uncaught task error) ends the execution: report it as StartSyncExecution would.
      const failure = error instanceof ExecutionError ? (error.cause as Error) : (error as Error);
      return { status: 'FAILED', error: failure?.name ?? 'States.Runtime', cause: failure?.message ?? String(error) };
    }
  }
}
