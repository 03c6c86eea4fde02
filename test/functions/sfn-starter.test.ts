import { SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflowStarter } from '../../lib/adapters/workflow/sfn-starter.ts';
import type { PlanCommandInput } from '../../workflows/plan-command/state.ts';
import { command, NOW, planInStage, REFER_PAYLOAD } from '../support/domain-fixtures.ts';

const ARN = 'arn:aws:states:eu-west-2:123456789012:stateMachine:PlanCommand';
const sfn = mockClient(SFNClient);

beforeEach(() => sfn.reset());
afterAll(() => sfn.restore());

const starter = () => new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-2' }), ARN);
const INPUT: PlanCommandInput = { command: command('refer', REFER_PAYLOAD), now: NOW };
const base = { executionArn: `${ARN}:x`, startDate: new Date(NOW), stopDate: new Date(NOW) };

describe('SfnWorkflowStarter', () => {
  it('starts a synchronous execution of the state machine with the input as JSON', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({ ...base, status: 'SUCCEEDED', output: '{}' });
    await starter().startSync(INPUT);
    const calls = sfn.commandCalls(StartSyncExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.stateMachineArn).toBe(ARN);
    expect(JSON.parse(input.input!)).toEqual(INPUT);
  });

  it('parses the output of a SUCCEEDED execution', async () => {
    const plan = planInStage('referred').plan!;
    const output = { ...INPUT, stage: 'none', plan, changed: true, status: 201 };
    sfn.on(StartSyncExecutionCommand).resolves({ ...base, status: 'SUCCEEDED', output: JSON.stringify(output) });
    await expect(starter().startSync(INPUT)).resolves.toEqual({ status: 'SUCCEEDED', output });
  });

  it('reads a SUCCEEDED execution without output as an empty state', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({ ...base, status: 'SUCCEEDED' });
    await expect(starter().startSync(INPUT)).resolves.toEqual({ status: 'SUCCEEDED', output: {} });
  });

  it('passes the error and cause of a FAILED execution on', async () => {
    const cause = JSON.stringify({ detail: 'No plan pl_x.', errors: [] });
    sfn.on(StartSyncExecutionCommand).resolves({ ...base, status: 'FAILED', error: 'NotFound', cause });
    await expect(starter().startSync(INPUT)).resolves.toEqual({ status: 'FAILED', error: 'NotFound', cause });
  });

  it('maps TIMED_OUT to States.Timeout', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({ ...base, status: 'TIMED_OUT' });
    await expect(starter().startSync(INPUT)).resolves.toEqual({ status: 'FAILED', error: 'States.Timeout', cause: '' });
  });

  it('maps a FAILED execution without an error name to States.Runtime', async () => {
    sfn.on(StartSyncExecutionCommand).resolves({ ...base, status: 'FAILED' });
    await expect(starter().startSync(INPUT)).resolves.toEqual({ status: 'FAILED', error: 'States.Runtime', cause: '' });
  });

  it('lets a failed API call surface as it is', async () => {
    sfn.on(StartSyncExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(starter().startSync(INPUT)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
