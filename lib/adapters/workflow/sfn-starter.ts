import { StartSyncExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionOutcome, PlanCommandInput, PlanCommandState, WorkflowStarter } from '../../../workflows/plan-command/state.ts';

/** Runs a PlanCommand execution on AWS: StartSyncExecution on the Express state machine. */
export class SfnWorkflowStarter implements WorkflowStarter {
  readonly client: SFNClient;
  readonly stateMachineArn: string;
  constructor(client: SFNClient, stateMachineArn: string) {
    this.client = client;
    this.stateMachineArn = stateMachineArn;
  }
  async startSync(input: PlanCommandInput): Promise<ExecutionOutcome> {
    const out = await this.client.send(new StartSyncExecutionCommand({ stateMachineArn: this.stateMachineArn, input: JSON.stringify(input) }));
    if (out.status === 'SUCCEEDED') return { status: 'SUCCEEDED', output: JSON.parse(out.output ?? '{}') as PlanCommandState };
    return { status: 'FAILED', error: out.error ?? (out.status === 'TIMED_OUT' ? 'States.Timeout' : 'States.Runtime'), cause: out.cause ?? '' };
  }
}
