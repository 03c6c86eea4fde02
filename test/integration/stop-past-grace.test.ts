/**
 * A request whose execution is still running when stop() has waited as long as it will: its client
 * is answered 503 problem+json (it may not have been applied), and when the execution later meets the
 * closed store nothing is logged as an unhandled error and no promise rejection goes unhandled.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { LocalWorkflowRunner } from '../../lib/local/workflow-runner.ts';
import { controllableClock, makeCall, referral, START } from '../support/http.ts';

describe('a request still running when the stop closes the store', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    vi.restoreAllMocks();
  });

  it('is answered 503 problem+json, and its execution ending on the closed store is a warning, not an unhandled error', async () => {
    process.on('unhandledRejection', onUnhandled);
    // The referral's execution is held before it saves the plan until the stack has stopped.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    let execution: Promise<unknown> | undefined;
    const stack = await startEmbeddedStack({
      inMemory: true,
      port: 0,
      sweepIntervalMs: 0,
      clock: controllableClock(START),
      webDistDir: false,
      webhooks: { intervalMs: 0 },
      stopGraceMs: 0,
      wrapWorkflow: (inner) => {
        const runner = inner as LocalWorkflowRunner;
        const save = runner.handlers['Save plan'] as (input: unknown) => Promise<unknown>;
        runner.handlers['Save plan'] = (input) => {
          holding();
          return gate.then(() => save(input));
        };
        return { startSync: (input) => (execution = inner.startSync(input)) as ReturnType<typeof inner.startSync> };
      },
    });
    const coordinator = (stack.demoUsers.find((u) => u.role === 'coordinator') as { token: string }).token;
    const answer = makeCall(stack.url)('POST', '/plans', { token: coordinator, body: referral() }).catch((error: Error) => ({ status: 0, text: `${error.message}: ${String(error.cause)}`, json: undefined, headers: new Headers() }));
    await held;

    const errors = vi.spyOn(console, 'error');
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await stack.stop();
    const res = await answer;
    expect(res.status, res.text).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toMatch(/stopped before this request finished/);

    // The execution goes on after the store has closed; its save fails there and the handler ends.
    release();
    expect(await execution).toMatchObject({ status: 'FAILED', error: 'TransientStorageError' });
    await expect.poll(() => warnings.mock.calls.length).toBe(1);
    expect(String(warnings.mock.calls[0]?.[0])).toMatch(/^POST \/plans was still running when the stack stopped/);
    expect(errors.mock.calls.flat().join('\n')).not.toMatch(/unhandled|gateway error/i);
    expect(unhandled).toEqual([]);
  });
});
