/**
 * Bench-only instrumentation of a running embedded stack, from the outside: an AWS SDK middleware on
 * the stack's DynamoDB client (every storage request counted and timed), the Task handlers of the
 * local runner wrapped (time per step), the execution itself timed, and the HTTP server's own
 * request time read from Node's diagnostics channels. An AsyncLocalStorage tells which step (or the
 * API handler) a storage request was made from. Nothing in the product changes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalWorkflowRunner } from '../../lib/local/workflow-runner.ts';
import { TASK_BINDINGS } from '../../workflows/plan-command/definition.ts';
import type { PlanCommandInput, PlanCommandState, WorkflowStarter } from '../../workflows/plan-command/state.ts';

export interface Where {
  /** The step function running (load-plan, decide, ...), or undefined in the API handler. */
  step?: string;
  /** Storage requests of this step invocation in flight now, and since when one has been. */
  inFlight: number;
  since: number;
}

export interface Counters {
  /** Storage requests by `<where>:<operation>` (where = api or a step name). */
  requests: Record<string, number>;
  /** Of those, the ones refused, by `<where>:<operation>:<error name>` (a conditional write whose condition failed is a request for nothing). */
  refused: Record<string, number>;
  /** Every request's own duration added up (requests sent together each count in full). */
  storageMs: { api: number; steps: number };
  /**
   * Wall time with at least one storage request in flight: Publish events sends three writes at once, so
   * the sum above overstates how long a step waits on storage, and "step time less storage" went negative.
   */
  storageWallMs: { api: number; steps: number };
  /** Per step: that wall time, and how many times a step went from no request to one (its round trips). */
  stepStorageWallMs: Record<string, number>;
  stepRoundTrips: Record<string, number>;
  stepMs: Record<string, number>;
  stepCalls: Record<string, number>;
  executions: number;
  executionMs: number;
  serverRequests: number;
  serverMs: number;
}

const empty = (): Counters => ({ requests: {}, refused: {}, storageMs: { api: 0, steps: 0 }, storageWallMs: { api: 0, steps: 0 }, stepStorageWallMs: {}, stepRoundTrips: {}, stepMs: {}, stepCalls: {}, executions: 0, executionMs: 0, serverRequests: 0, serverMs: 0 });

export class Instrument {
  readonly als = new AsyncLocalStorage<Where>();
  counters: Counters = empty();
  /** The API handler's requests have no step context: one tracker for all of them (exact at 1 client, where the split is made). */
  private readonly api: Where = { inFlight: 0, since: 0 };
  private readonly serverStarts = new WeakMap<object, number>();
  private readonly onStart = (message: unknown) => {
    const { request, response } = message as { request: { headers: Record<string, unknown> }; response: object };
    // dynalite is an HTTP server in the same process: its requests are storage, not API.
    if (isStorageRequest(request)) return;
    this.serverStarts.set(response, performance.now());
  };
  private readonly onFinish = (message: unknown) => {
    const response = (message as { response: object }).response;
    const started = this.serverStarts.get(response);
    if (started === undefined) return;
    this.counters.serverRequests += 1;
    this.counters.serverMs += performance.now() - started;
  };

  reset(): void {
    this.counters = empty();
  }

  snapshot(): Counters {
    return structuredClone(this.counters);
  }

  /** Count and time every request the client sends (a logical request: retries inside it are not counted again). */
  attachClient(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const where = this.als.getStore() ?? this.api;
        if (where.inFlight++ === 0) {
          where.since = started;
          if (where.step) this.counters.stepRoundTrips[where.step] = (this.counters.stepRoundTrips[where.step] ?? 0) + 1;
        }
        let refusedAs: string | undefined;
        try {
          return await next(args);
        } catch (error) {
          refusedAs = (error as Error).name;
          throw error;
        } finally {
          const now = performance.now();
          const ms = now - started;
          const step = where.step;
          const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
          const key = `${step ?? 'api'}:${op}`;
          this.counters.requests[key] = (this.counters.requests[key] ?? 0) + 1;
          if (refusedAs) this.counters.refused[`${key}:${refusedAs}`] = (this.counters.refused[`${key}:${refusedAs}`] ?? 0) + 1;
          if (step) this.counters.storageMs.steps += ms;
          else this.counters.storageMs.api += ms;
          if (--where.inFlight === 0) {
            const wall = now - where.since;
            if (step) {
              this.counters.storageWallMs.steps += wall;
              this.counters.stepStorageWallMs[step] = (this.counters.stepStorageWallMs[step] ?? 0) + wall;
            } else this.counters.storageWallMs.api += wall;
          }
        }
      },
      { step: 'initialize', name: 'benchStorageCounter', priority: 'high' },
    );
  }

  /** Time each Task handler and the execution as a whole; storage requests inside a step are tagged with it. */
  wrapRunner(runner: LocalWorkflowRunner): WorkflowStarter {
    const handlers = runner.handlers as Record<string, (input: unknown) => Promise<unknown>>;
    for (const [stateName, handler] of Object.entries(handlers)) {
      const step = stepOf(stateName);
      handlers[stateName] = (input: unknown) => {
        const started = performance.now();
        return this.als.run({ step, inFlight: 0, since: 0 }, () => handler(input)).finally(() => {
          this.counters.stepMs[step] = (this.counters.stepMs[step] ?? 0) + (performance.now() - started);
          this.counters.stepCalls[step] = (this.counters.stepCalls[step] ?? 0) + 1;
        });
      };
    }
    return {
      startSync: async (input: PlanCommandInput) => {
        const started = performance.now();
        try {
          return await runner.startSync(input);
        } finally {
          this.counters.executions += 1;
          this.counters.executionMs += performance.now() - started;
        }
      },
    };
  }

  /** The gateway's own time per request, from Node's http diagnostics channels. */
  attachHttp(): void {
    diagnostics.subscribe('http.server.request.start', this.onStart);
    diagnostics.subscribe('http.server.response.finish', this.onFinish);
  }

  detachHttp(): void {
    diagnostics.unsubscribe('http.server.request.start', this.onStart);
    diagnostics.unsubscribe('http.server.response.finish', this.onFinish);
  }
}

/** A request to dynalite (every DynamoDB API call names its operation in X-Amz-Target). */
export function isStorageRequest(request: { headers: Record<string, unknown> }): boolean {
  return request.headers['x-amz-target'] !== undefined;
}

/** Task state name → step function, from the runner's own bindings (every command step is `decide`). */
function stepOf(stateName: string): string {
  return TASK_BINDINGS[stateName] ?? stateName;
}

/** Count the states each execution enters (what a Standard workflow is billed for). */
export function countTransitions(runner: LocalWorkflowRunner, onExecution: (states: string[]) => void): void {
  const machine = runner.machine as unknown as { run: (input: unknown, options: unknown) => { eventLogs: AsyncGenerator<{ type: string; state?: { name: string } }> } };
  const run = machine.run.bind(machine);
  machine.run = (input, options) => {
    const execution = run(input, options);
    const states: string[] = [];
    void (async () => {
      for await (const event of execution.eventLogs) if (event.type === 'StateEntered' && event.state) states.push(event.state.name);
      onExecution(states);
    })();
    return execution;
  };
}

export type { PlanCommandState };
