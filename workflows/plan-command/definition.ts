import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { COMMAND_NAMES, LIFECYCLE, type CommandName } from '../../lib/domain/lifecycle.ts';
import { DOMAIN_ERROR_NAMES, type DomainErrorName } from '../../lib/domain/errors.ts';
import { STEP_FUNCTIONS, type StepFunctionName } from './steps.ts';

/**
 * The PlanCommand state machine: one short Express execution per command.
 *
 *   Load plan → Already applied? → Guard → Route → <the command's step> → Anything to save?
 *   → (Allocate providers) → Save plan → Publish events
 *
 * Guard and Route are generated from the lifecycle table, so the table stays the one source of
 * truth for what is allowed where. The same chain is rendered to ASL for the embedded stack.
 */

export const STATE = {
  loadPlan: 'Load plan',
  alreadyApplied: 'Already applied?',
  returnFirstResult: 'Return first result',
  guard: 'Guard',
  explainRefusal: 'Explain refusal',
  consentWithdrawn: 'Consent withdrawn?',
  explainConsentWithdrawn: 'Explain refusal: consent withdrawn',
  allocationClosed: 'Allocation closed?',
  explainAllocationClosed: 'Explain refusal: allocation closed',
  route: 'Route',
  anythingToSave: 'Anything to save?',
  nothingToChange: 'Nothing to change',
  allocate: 'Allocate providers',
  save: 'Save plan',
  publish: 'Publish events',
  leaveForSweeper: 'Leave events for the sweeper',
  done: 'Done',
} as const;

/** The Fail state for each refusal; the API maps the error name to a status code. */
export const FAIL_STATE: Record<DomainErrorName, string> = {
  InvalidCommand: 'Invalid command',
  Forbidden: 'Forbidden',
  NotFound: 'Not found',
  NotAllowedInStage: 'Not allowed in stage',
  VersionConflict: 'Version conflict',
  IdempotencyKeyReused: 'Idempotency key reused',
};

/** Errors worth retrying: the Lambda service's own and the storage adapter's throttling. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientStorageError',
];

/** Which step function each Task state runs: the embedded runner binds Task states by these names. */
export const TASK_BINDINGS: Record<string, StepFunctionName> = {
  [STATE.loadPlan]: 'load-plan',
  ...Object.fromEntries(COMMAND_NAMES.map((name) => [LIFECYCLE[name].step, 'decide' as const])),
  [STATE.allocate]: 'allocate-providers',
  [STATE.save]: 'save-plan',
  [STATE.publish]: 'publish-events',
};

export type StepFunctions = Record<StepFunctionName, IFunction>;

export function definePlanCommand(scope: Construct, functions: StepFunctions): sfn.IChainable {
  const fail = Object.fromEntries(
    DOMAIN_ERROR_NAMES.map((name) => [name, new sfn.Fail(scope, FAIL_STATE[name], { error: name, causePath: '$.error.Cause' })]),
  ) as Record<DomainErrorName, sfn.Fail>;

  const task = (name: string, fn: StepFunctionName, refusals: DomainErrorName[]) => {
    const step = new tasks.LambdaInvoke(scope, name, {
      lambdaFunction: functions[fn],
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(10)),
    });
    step.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 3, jitterStrategy: sfn.JitterType.FULL });
    for (const refusal of refusals) step.addCatch(fail[refusal], { errors: [refusal], resultPath: '$.error' });
    return step;
  };

  const done = new sfn.Succeed(scope, STATE.done);
  const publish = task(STATE.publish, 'publish-events', []);
  // Events are already safe in the plan's outbox: a failed publish is retried by the sweeper, not by the client.
  publish.addCatch(new sfn.Pass(scope, STATE.leaveForSweeper, { resultPath: sfn.JsonPath.DISCARD }).next(done), { errors: ['States.ALL'], resultPath: '$.publishError' });
  const save = task(STATE.save, 'save-plan', ['VersionConflict']).next(publish.next(done));
  const allocate = task(STATE.allocate, 'allocate-providers', ['InvalidCommand', 'VersionConflict']).next(save);

  const anythingToSave = new sfn.Choice(scope, STATE.anythingToSave)
    .when(sfn.Condition.booleanEquals('$.changed', false), new sfn.Succeed(scope, STATE.nothingToChange))
    .when(sfn.Condition.booleanEquals('$.needsAllocation', true), allocate)
    .otherwise(save);

  const explainRefusal = new sfn.Pass(scope, STATE.explainRefusal, {
    parameters: {
      Cause: sfn.JsonPath.format('{} is not allowed while the plan is {}.', sfn.JsonPath.stringAt('$.command.name'), sfn.JsonPath.stringAt('$.stage')),
    },
    resultPath: '$.error',
  }).next(fail.NotAllowedInStage);

  // A refusal on a plan whose consent was withdrawn says so: that, not the stage, is why nothing more is done.
  const explainConsentWithdrawn = new sfn.Pass(scope, STATE.explainConsentWithdrawn, {
    parameters: {
      Cause: sfn.JsonPath.format(
        '{} is not allowed: her consent was withdrawn at {}, and the plan is {}.',
        sfn.JsonPath.stringAt('$.command.name'),
        sfn.JsonPath.stringAt('$.consentWithdrawnAt'),
        sfn.JsonPath.stringAt('$.stage'),
      ),
    },
    resultPath: '$.error',
  }).next(fail.NotAllowedInStage);
  const consentRefusal = new sfn.Choice(scope, STATE.consentWithdrawn).when(sfn.Condition.isPresent('$.consentWithdrawnAt'), explainConsentWithdrawn).otherwise(explainRefusal);

  // A command on an allocation that has ended (its plan exited or closed) says that first: it is what its provider needs to hear.
  const explainAllocationClosed = new sfn.Pass(scope, STATE.explainAllocationClosed, {
    parameters: { Cause: sfn.JsonPath.stringAt('$.allocationClosed') },
    resultPath: '$.error',
  }).next(fail.NotAllowedInStage);
  const refuse = new sfn.Choice(scope, STATE.allocationClosed).when(sfn.Condition.isPresent('$.allocationClosed'), explainAllocationClosed).otherwise(consentRefusal);

  const route = new sfn.Choice(scope, STATE.route);
  for (const name of COMMAND_NAMES) {
    route.when(sfn.Condition.stringEquals('$.command.name', name), task(LIFECYCLE[name].step, 'decide', ['InvalidCommand', 'Forbidden', 'NotFound', 'NotAllowedInStage', 'VersionConflict']).next(anythingToSave));
  }
  route.otherwise(explainRefusal);

  const guard = new sfn.Choice(scope, STATE.guard);
  for (const name of COMMAND_NAMES) {
    const stages = LIFECYCLE[name].from as readonly string[];
    const inStage = stages.length === 1 ? sfn.Condition.stringEquals('$.stage', stages[0] as string) : sfn.Condition.or(...stages.map((s) => sfn.Condition.stringEquals('$.stage', s)));
    guard.when(sfn.Condition.and(sfn.Condition.stringEquals('$.command.name', name), inStage), route);
  }
  guard.otherwise(refuse);

  const alreadyApplied = new sfn.Choice(scope, STATE.alreadyApplied)
    .when(sfn.Condition.isPresent('$.replay'), new sfn.Succeed(scope, STATE.returnFirstResult))
    .otherwise(guard);

  return task(STATE.loadPlan, 'load-plan', ['NotFound', 'IdempotencyKeyReused']).next(alreadyApplied);
}

export { STEP_FUNCTIONS };
export type { CommandName };
