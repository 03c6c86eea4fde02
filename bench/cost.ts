/**
 * Part 6b: AWS cost per 1,000 plan lifecycles, from what the accounting run counted (state machine
 * executions and transitions, Lambda invocations, storage requests sized in read and write units,
 * events) and the step and handler times measured at one client, next to one Standard execution per
 * plan. Prices are docs/deploy.md's list-price assumptions (eu-west-2, USD, no free tier), so the two
 * estimates agree on prices and differ only in counts and durations.
 */
import { FUNCTION_SPECS } from '../lib/infra/functions.ts';
import type { Breakdown, CostCounts } from './throughput.ts';

/** docs/deploy.md, "What it costs". */
export const PRICES = {
  expressPerRequest: 1.0 / 1e6,
  expressPerGbSecond: 0.00001667,
  lambdaPerRequest: 0.2 / 1e6,
  lambdaArmPerGbSecond: 0.0000133,
  dynamoPerWriteUnit: 0.71 / 1e6,
  dynamoPerReadUnit: 0.14 / 1e6,
  eventBridgePerEvent: 1.0 / 1e6,
  apiDestinationPerCall: 0.2 / 1e6,
  httpApiPerRequest: 1.11 / 1e6,
  standardPerTransition: 0.025 / 1000,
} as const;

/**
 * How long things take on AWS, where the embedded stack cannot tell: assumptions, stated. Compute
 * time is what was measured here (on a shared machine, so rather more than a Lambda would take).
 */
export const AWS_TIMING = {
  /** One DynamoDB request from Lambda in the same region. */
  dynamoRequestMs: 5,
  /** Step Functions invoking a Lambda task (and the state around it), per Task state. */
  taskInvokeMs: 20,
  /** api-commands calling StartSyncExecution, on top of the execution itself. */
  startSyncMs: 20,
  /** A Standard workflow's callback: api-commands calling SendTaskSuccess. */
  sendTaskSuccessMs: 15,
  /** The docs' assumptions, for comparison: ~1 s per execution, ~50 ms per step. */
  docsExecutionMs: 1000,
  docsStepMs: 50,
} as const;

/** The docs' lifecycle: ~40 commands per plan (timers included), plus ~60 reads. */
export const DOCS_COMMANDS_PER_PLAN = 40;

const gbSeconds = (ms: number, mb: number) => (ms / 1000) * (mb / 1024);

export interface CostLine {
  item: string;
  perLifecycle: Record<string, number>;
  usdPer1000: number;
}

export interface CostResult {
  commandsPerLifecycle: number;
  perCommand: {
    storageRequests: number;
    readUnits: number;
    writeUnits: number;
    indexWriteUnits: number;
    events: number;
    providerEvents: number;
    transitions: number;
    stepInvocations: number;
    /** Write units (table and indexes) per command by where they were written from and the operation. */
    writeUnitsByWhere: Record<string, number>;
    stepBilledMs: number;
    executionMs: number;
    apiCommandsBilledMs: number;
  };
  express: { lines: CostLine[]; totalPer1000: number };
  standard: { lines: CostLine[]; totalPer1000: number; transitionsPerLifecycle: number };
  /** The same per-command figures at the docs' 40 commands per plan. */
  docsLifecycle: { expressPer1000: number; standardPer1000: number; workflowOnly: { expressPer1000: number; standardPer1000: number } };
  timing: typeof AWS_TIMING;
  prices: typeof PRICES;
}

export function estimateCost(counts: CostCounts, breakdown: Breakdown): CostResult {
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const L = Math.max(1, counts.lifecycles);
  const commands = sum(counts.commands);
  const bills = Object.values(counts.bills);
  const requests = bills.reduce((a, b) => a + sum(b.requests), 0);
  const readUnits = bills.reduce((a, b) => a + b.readUnits, 0);
  const writeUnits = bills.reduce((a, b) => a + b.writeUnits, 0);
  const indexWriteUnits = bills.reduce((a, b) => a + b.indexWriteUnits, 0);
  const events = Object.values(counts.events).reduce((a, b) => a + b.events, 0);
  const providerEvents = Object.values(counts.events).reduce((a, b) => a + b.providerEvents, 0);
  const transitions = sum(counts.transitions);
  const executions = sum(counts.executions);
  const stepInvocations = sum(counts.stepCalls);

  // Durations per command, modelled for AWS: compute as measured here, plus DynamoDB round trips and invocation overheads.
  // A step's compute is its time less the wall time it waited on storage here; on AWS it waits one DynamoDB
  // round trip for each time it went from no request in flight to one (writes sent together wait once).
  let stepBilledMs = 0;
  let stepGbSeconds = 0;
  for (const [step, ms] of Object.entries(breakdown.stepMsPerCommand)) {
    const compute = Math.max(0, ms - (breakdown.stepStorageWallMsPerCommand[step] ?? 0));
    const billed = compute + (breakdown.stepRoundTripsPerCommand[step] ?? 0) * AWS_TIMING.dynamoRequestMs;
    const calls = breakdown.stepCallsPerCommand[step] ?? 0;
    // Lambda bills each invocation to the next millisecond.
    const perCall = calls > 0 ? Math.ceil(billed / calls) : 0;
    stepBilledMs += perCall * calls;
    stepGbSeconds += gbSeconds(perCall * calls, FUNCTION_SPECS[step as keyof typeof FUNCTION_SPECS]?.memoryMb ?? 256);
  }
  const stepsPerCommand = stepInvocations / Math.max(1, executions);
  const executionMs = stepBilledMs + stepsPerCommand * AWS_TIMING.taskInvokeMs + breakdown.perCommandMs.orchestration;
  const apiRequests = breakdown.storageRequestsPerCommand.api;
  const apiCompute = Math.max(0, breakdown.perCommandMs.apiHandler);
  const apiOwnMs = apiCompute + apiRequests * AWS_TIMING.dynamoRequestMs;
  const apiCommandsBilledMs = Math.ceil(apiOwnMs + AWS_TIMING.startSyncMs + executionMs);
  const apiMemory = FUNCTION_SPECS['api-commands'].memoryMb;

  const perL = (x: number) => x / L;
  const line = (item: string, perLifecycle: Record<string, number>, usdPerLifecycle: number): CostLine => ({ item, perLifecycle, usdPer1000: usdPerLifecycle * 1000 });
  const cpl = commands / L;
  // Express bills duration to the next 100 ms, in 64 MB steps.
  const expressBilledMs = Math.ceil(executionMs / 100) * 100;
  const dynamo = line(
    'DynamoDB on demand (index writes included)',
    { requests: perL(requests), readUnits: perL(readUnits), writeUnits: perL(writeUnits), indexWriteUnits: perL(indexWriteUnits) },
    perL(readUnits) * PRICES.dynamoPerReadUnit + perL(writeUnits + indexWriteUnits) * PRICES.dynamoPerWriteUnit,
  );
  const eventBridge = line('EventBridge (events, API destination calls)', { events: perL(events), apiDestinationCalls: perL(providerEvents) }, perL(events) * PRICES.eventBridgePerEvent + perL(providerEvents) * PRICES.apiDestinationPerCall);
  const httpApi = line('API Gateway HTTP API', { requests: cpl }, cpl * PRICES.httpApiPerRequest);
  const stepLambdas = line(
    'Lambda: PlanCommand steps',
    { invocations: perL(stepInvocations), billedMs: stepBilledMs * cpl },
    perL(stepInvocations) * PRICES.lambdaPerRequest + stepGbSeconds * cpl * PRICES.lambdaArmPerGbSecond,
  );
  const expressLines = [
    line('Step Functions Express (requests, duration at 64 MB)', { executions: perL(executions), billedMs: expressBilledMs * cpl }, perL(executions) * PRICES.expressPerRequest + gbSeconds(expressBilledMs, 64) * cpl * PRICES.expressPerGbSecond),
    stepLambdas,
    line('Lambda: api-commands (waits for the execution)', { invocations: cpl, billedMs: apiCommandsBilledMs * cpl }, cpl * PRICES.lambdaPerRequest + gbSeconds(apiCommandsBilledMs, apiMemory) * cpl * PRICES.lambdaArmPerGbSecond),
    dynamo,
    eventBridge,
    httpApi,
  ];
  // One Standard execution per plan: each command is a callback into it (one more state), no duration charge,
  // and the API no longer waits for the work (it answers once the callback is accepted).
  const standardTransitions = perL(transitions) + cpl;
  const apiCallbackMs = Math.ceil(apiOwnMs + AWS_TIMING.sendTaskSuccessMs);
  const standardLines = [
    line('Step Functions Standard (state transitions)', { transitions: standardTransitions }, standardTransitions * PRICES.standardPerTransition),
    stepLambdas,
    line('Lambda: api-commands (sends the callback)', { invocations: cpl, billedMs: apiCallbackMs * cpl }, cpl * PRICES.lambdaPerRequest + gbSeconds(apiCallbackMs, apiMemory) * cpl * PRICES.lambdaArmPerGbSecond),
    dynamo,
    eventBridge,
    httpApi,
  ];
  const total = (lines: CostLine[]) => lines.reduce((a, l) => a + l.usdPer1000, 0);
  const perCommandScale = DOCS_COMMANDS_PER_PLAN / cpl;
  const expressWorkflow = (expressLines[0] as CostLine).usdPer1000;
  const standardWorkflow = (standardLines[0] as CostLine).usdPer1000;
  return {
    commandsPerLifecycle: cpl,
    perCommand: {
      storageRequests: requests / commands,
      readUnits: readUnits / commands,
      writeUnits: writeUnits / commands,
      indexWriteUnits: indexWriteUnits / commands,
      events: events / commands,
      providerEvents: providerEvents / commands,
      transitions: transitions / Math.max(1, executions),
      stepInvocations: stepsPerCommand,
      writeUnitsByWhere: Object.fromEntries(
        Object.entries(
          bills.reduce<Record<string, number>>((acc, b) => {
            for (const [k, v] of Object.entries(b.writeUnitsByWhere)) acc[k] = (acc[k] ?? 0) + v;
            return acc;
          }, {}),
        )
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => [k, v / commands]),
      ),
      stepBilledMs,
      executionMs,
      apiCommandsBilledMs,
    },
    express: { lines: expressLines, totalPer1000: total(expressLines) },
    standard: { lines: standardLines, totalPer1000: total(standardLines), transitionsPerLifecycle: standardTransitions },
    docsLifecycle: {
      expressPer1000: total(expressLines) * perCommandScale,
      standardPer1000: total(standardLines) * perCommandScale,
      workflowOnly: { expressPer1000: expressWorkflow * perCommandScale, standardPer1000: standardWorkflow * perCommandScale },
    },
    timing: AWS_TIMING,
    prices: PRICES,
  };
}
