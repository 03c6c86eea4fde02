/**
 * A metrics setting that cannot work (0, negative, fractional, not a number) is found at start and
 * named with its rule: the embedded stack and `wraparound start` refuse to start, the CDK synth fails,
 * and the Lambda logs it once at cold start and answers "misconfigured" (before, every GET /metrics
 * was a 500 with a stack trace).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handlerFromEnvironment, makeHandler } from '../../functions/api-metrics/handler.ts';
import { ConfigurationError, metricsEnvironment, readMetricsFunctionSettings, readMetricsSettings } from '../../lib/config.ts';
import { stageConfig } from '../../lib/infra/stage-config.ts';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { MetricsSource } from '../../lib/metrics/index.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const emptySource: MetricsSource = { snapshot: async () => ({ facts: [], providers: [], generation: 1 }) };
const BAD_VALUES = ['0', '-5', '2.5', 'five', '', '101'];

describe('metrics settings from the environment', () => {
  it.each(BAD_VALUES)('refuse METRICS_ROUND_COUNTS_TO=%j and METRICS_SUPPRESSION_THRESHOLD=%j, naming the variable and the rule', (value) => {
    for (const name of ['METRICS_ROUND_COUNTS_TO', 'METRICS_SUPPRESSION_THRESHOLD']) {
      const read = () => readMetricsSettings({ [name]: value });
      expect(read).toThrow(ConfigurationError);
      expect(read).toThrow(`${name} is ${JSON.stringify(value)}: it must be a whole number from 1 to 100`);
    }
  });

  it('take good ones, and leave absent ones to the defaults', () => {
    expect(readMetricsSettings({ METRICS_ROUND_COUNTS_TO: '10', METRICS_SUPPRESSION_THRESHOLD: '3' })).toEqual({ roundCountsTo: 10, suppressionThreshold: 3 });
    expect(readMetricsSettings({})).toEqual({});
  });
});

describe('METRICS_MAX_AGE_SECONDS, the api-metrics source setting', () => {
  it.each(['', ' ', '-1', '2.5', '61', 'thirty', '0x1e'])('refuses %j at cold start, naming the variable and its rule', (value) => {
    const read = () => readMetricsFunctionSettings({ METRICS_MAX_AGE_SECONDS: value });
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(`METRICS_MAX_AGE_SECONDS is ${JSON.stringify(value)}: it must be a whole number from 0 to 60`);
  });

  it('takes 0 to 60 (0: every answer reads the facts afresh), defaults to 30, and names every bad setting at once', () => {
    expect(readMetricsFunctionSettings({ METRICS_MAX_AGE_SECONDS: '0' }).source).toEqual({ maxAgeSeconds: 0 });
    expect(readMetricsFunctionSettings({ METRICS_MAX_AGE_SECONDS: '60', METRICS_ROUND_COUNTS_TO: '10' })).toEqual({ figures: { roundCountsTo: 10 }, source: { maxAgeSeconds: 60 } });
    expect(readMetricsFunctionSettings({})).toEqual({ figures: {}, source: { maxAgeSeconds: 30 } });
    expect(() => readMetricsFunctionSettings({ METRICS_MAX_AGE_SECONDS: '', METRICS_ROUND_COUNTS_TO: '0' })).toThrow(
      'Bad metrics settings: METRICS_ROUND_COUNTS_TO is "0": it must be a whole number from 1 to 100; METRICS_MAX_AGE_SECONDS is "": it must be a whole number from 0 to 60.',
    );
  });

  it('left empty, the Lambda logs it once and builds nothing (before, it was read as 0 and every answer reread all the facts)', () => {
    const logged: Record<string, unknown>[] = [];
    let built = 0;
    handlerFromEnvironment(
      { METRICS_MAX_AGE_SECONDS: '' },
      (config) => {
        built += 1;
        return makeHandler({ source: emptySource, config });
      },
      { error: (_message, details) => logged.push(details ?? {}) },
    );
    expect(built).toBe(0);
    expect(logged).toEqual([{ reason: 'Bad metrics settings: METRICS_MAX_AGE_SECONDS is "": it must be a whole number from 0 to 60.' }]);
  });
});

describe('the api-metrics Lambda with a bad setting', () => {
  it('logs the setting once at cold start and answers every request with a 500 problem saying it is misconfigured', async () => {
    const logged: { message: string; details?: Record<string, unknown> }[] = [];
    let built = 0;
    const handler = handlerFromEnvironment(
      { METRICS_ROUND_COUNTS_TO: '0' },
      (config) => {
        built += 1;
        return makeHandler({ source: emptySource, config });
      },
      { error: (message, details) => logged.push({ message, ...(details ? { details } : {}) }) },
    );
    for (const route of ['GET /metrics', 'GET /metrics.csv']) {
      for (let i = 0; i < 2; i += 1) {
        const path = route.split(' ')[1] as string;
        const result = await handler(lambdaEvent({ routeKey: route, rawPath: path, claims: CLAIMS.commissioner }), {} as Context);
        expect(result.statusCode).toBe(500);
        expect(result.headers?.['content-type']).toBe('application/problem+json');
        expect(JSON.parse(result.body as string).detail).toMatch(/misconfigured/);
      }
    }
    expect(built).toBe(0);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.details?.reason).toMatch(/METRICS_ROUND_COUNTS_TO is "0": it must be a whole number from 1 to 100/);
  });

  it('with good settings answers with them', async () => {
    const handler = handlerFromEnvironment({ METRICS_ROUND_COUNTS_TO: '10' }, (config) => makeHandler({ source: emptySource, config }), { error: () => {} });
    const result = await handler(lambdaEvent({ routeKey: 'GET /metrics', rawPath: '/metrics', claims: CLAIMS.commissioner }), {} as Context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string).suppression.roundCountsTo).toBe(10);
  });
});

describe('the embedded stack with a bad setting', () => {
  it('refuses to start, naming the setting and its rule', async () => {
    await expect(startEmbeddedStack({ inMemory: true, port: 0, metrics: { roundCountsTo: 0 } })).rejects.toThrow(/metrics\.roundCountsTo is 0: it must be a whole number from 1 to 100/);
    await expect(startEmbeddedStack({ inMemory: true, port: 0, metrics: { suppressionThreshold: 2.5 } })).rejects.toThrow(ConfigurationError);
  });

  it('`wraparound start` with METRICS_ROUND_COUNTS_TO=0 exits 2 naming it, before anything starts', () => {
    const run = spawnSync(process.execPath, ['bin/wraparound.ts', 'start', '--in-memory', '--port', '0'], { cwd: ROOT, env: { ...process.env, METRICS_ROUND_COUNTS_TO: '0' }, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('METRICS_ROUND_COUNTS_TO is "0": it must be a whole number from 1 to 100');
    expect(run.stdout).not.toContain('embedded stack on');
  });
});

describe('the CDK stage config', () => {
  it('fails the synth on a bad metrics setting, naming it', () => {
    expect(() => stageConfig('dev', { metrics: { roundCountsTo: '0' } })).toThrow(/metrics\.roundCountsTo: must be a whole number from 1 to 100 \(METRICS_ROUND_COUNTS_TO of api-metrics\)/);
    expect(() => stageConfig('prod', { metrics: { suppressionThreshold: '-1' } })).toThrow(/metrics\.suppressionThreshold: must be a whole number from 1 to 100/);
    expect(() => stageConfig('dev', { metrics: { roundCountsTo: 'ten' } })).toThrow(/metrics\.roundCountsTo/);
    for (const value of ['61', '-1', '2.5', '', 'half a minute']) {
      expect(() => stageConfig('prod', { metrics: { maxAgeSeconds: value } }), value).toThrow(/metrics\.maxAgeSeconds: must be a whole number from 0 to 60 \(METRICS_MAX_AGE_SECONDS of api-metrics\)/);
    }
  });

  it('carries good settings to the function environment, which reads them back as they were set', () => {
    const config = stageConfig('dev', { metrics: { roundCountsTo: '10', maxAgeSeconds: '0' } });
    expect(metricsEnvironment(config.metrics)).toEqual({ METRICS_SUPPRESSION_THRESHOLD: '5', METRICS_ROUND_COUNTS_TO: '10', METRICS_MAX_PERIOD_MONTHS: '36', METRICS_MAX_AGE_SECONDS: '0' });
    const { maxAgeSeconds, ...figures } = config.metrics;
    expect(readMetricsFunctionSettings(metricsEnvironment(config.metrics))).toEqual({ figures, source: { maxAgeSeconds } });
    expect(stageConfig('prod').metrics.maxAgeSeconds).toBe(30);
  });
});
