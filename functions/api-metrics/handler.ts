import { apiHandler, type RouteContext } from '../../lib/api/handler-kit.ts';
import { json, problem, type HttpResult } from '../../lib/api/http.ts';
import { londonDay } from '../../lib/domain/metrics/dates.ts';
import { computeMetrics, type MetricsReport } from '../../lib/domain/metrics/compute.ts';
import { metricsCsv } from '../../lib/domain/metrics/csv.ts';
import { MetricsConfig, metricsPeriodRules, resolveMetricsQuery } from '../../lib/domain/metrics/query.ts';
import { FIGURES_INCOMPLETE_HEADER, type MetricsIncomplete } from '../../lib/domain/metrics/report-schema.ts';
import { FactStore } from '../../lib/metrics/fact-store.ts';
import { StoredFactsSource, type MetricsSource } from '../../lib/metrics/index.ts';
import { checkMetricsSettings, ConfigurationError, readMetricsFunctionSettings } from '../../lib/config.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';
import { logger } from '../../lib/runtime/observability.ts';

export interface MetricsApiDeps {
  source: MetricsSource;
  clock?: () => string;
  config?: Partial<MetricsConfig>;
}

/** Distinct queries kept for one generation of the facts; past that the kept answers are dropped and kept afresh. */
const MAX_CACHED_ANSWERS = 64;

/**
 * Commissioner figures: GET /metrics (JSON, with a definition of every figure) and GET /metrics.csv
 * (the same figures). Aggregates only: the facts hold no plan or participant identifier, every
 * small number is suppressed before it leaves, and every shown count is rounded (config.roundCountsTo). The answer to a query is kept until the facts change
 * (the source's generation), so the same figures asked again (JSON, then CSV) cost nothing.
 */
export function makeHandler(deps: MetricsApiDeps) {
  // Checked once, here: the embedded stack builds this at start, so a bad setting stops the start with its name.
  const config = MetricsConfig.parse({ ...deps.config, ...checkMetricsSettings(deps.config ?? {}, (key) => `metrics.${key}`) });
  const clock = deps.clock ?? (() => new Date().toISOString());

  // Answers by query, for one generation of the facts: any change to the facts empties it.
  let answers: { generation: number; byQuery: Map<string, MetricsReport> } | undefined;

  async function report(ctx: RouteContext): Promise<MetricsReport & { incomplete?: MetricsIncomplete }> {
    const now = clock();
    const resolved = resolveMetricsQuery(ctx.event.queryStringParameters ?? {}, londonDay(now), config);
    if (!resolved.ok) throw problem(400, `The metrics query is not valid: ${resolved.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, resolved.errors);
    const { query } = resolved;
    const { facts, providers, generation, incomplete } = await deps.source.snapshot();
    // Said on every answer while it holds, so nobody takes partial figures for the whole.
    const note = incomplete ? { incomplete } : {};
    // A `to` past the last complete quarter is answered up to it: the period says what was asked, too.
    // And the deployment's period rules, so what a person is told of the default and the limit is the rule itself.
    const period = (answer: MetricsReport) => ({ ...(query.requestedTo ? { period: { ...answer.period, requestedTo: query.requestedTo } } : {}), periodRules: metricsPeriodRules(config) });
    if (!config.cacheAnswers || generation === undefined) {
      const answer = computeMetrics(facts, query, { suppressionThreshold: config.suppressionThreshold, roundCountsTo: config.roundCountsTo, asOf: now, providers });
      return { ...answer, ...period(answer), ...note };
    }
    if (answers?.generation !== generation) answers = { generation, byQuery: new Map() };
    const key = `${query.from} ${query.to} ${query.groupBy.join(',')}`;
    let answer = answers.byQuery.get(key);
    if (!answer) {
      if (answers.byQuery.size >= MAX_CACHED_ANSWERS) answers.byQuery.clear();
      answer = computeMetrics(facts, query, { suppressionThreshold: config.suppressionThreshold, roundCountsTo: config.roundCountsTo, asOf: now, providers });
      answers.byQuery.set(key, answer);
    }
    // The facts are the same as when it was worked out, so it is the answer as of now.
    return { ...answer, ...period(answer), asOf: now, ...note };
  }

  return apiHandler({
    'GET /metrics': async (ctx) => json(200, await report(ctx)),
    'GET /metrics.csv': async (ctx): Promise<HttpResult> => {
      const r = await report(ctx);
      // Incomplete figures are said in the file (its first line, see metricsCsv), in its name (seen in a
      // downloads folder and a spreadsheet's title bar), and in a header a program can check before reading.
      const headers: Record<string, string> = {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="wraparound-metrics-${r.period.from}-to-${r.period.to}${r.incomplete ? '-incomplete' : ''}.csv"`,
      };
      if (r.incomplete) headers[FIGURES_INCOMPLETE_HEADER] = String(r.incomplete.staleFacts);
      return { statusCode: 200, headers, body: metricsCsv(r) };
    },
  });
}

/**
 * The function as built from its environment once per container. A setting that cannot work is found
 * here, at cold start: logged once, naming the setting and its rule, and every request is then a 500
 * problem that says the service is misconfigured (before, each request threw again with its stack trace).
 */
export function handlerFromEnvironment(env: Record<string, string | undefined>, build: (config: Partial<MetricsConfig>, maxAgeSeconds: number) => ReturnType<typeof makeHandler>, log: { error(message: string, details?: Record<string, unknown>): void }): ReturnType<typeof makeHandler> {
  let settings: ReturnType<typeof readMetricsFunctionSettings>;
  try {
    settings = readMetricsFunctionSettings(env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    log.error('api-metrics is misconfigured: every request is refused until its settings are put right', { reason: error.message });
    const refusal = problem(500, 'The figures service is misconfigured, so no figures can be given; its operators have the reason in its log. Nothing was changed.');
    return apiHandler({
      'GET /metrics': () => Promise.reject(refusal),
      'GET /metrics.csv': () => Promise.reject(refusal),
    });
  }
  return build(settings.figures, settings.source.maxAgeSeconds);
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  built ??= handlerFromEnvironment(
    process.env,
    (config, maxAgeSeconds) => {
      const deps = awsDeps();
      const source = new StoredFactsSource(
        new FactStore(deps.plans.client, deps.plans.tableName),
        deps.baseDirectory.organizations.map((o) => o.id),
        { maxAgeMs: maxAgeSeconds * 1000, warn: (message, details) => logger().warn(message, details) },
      );
      return makeHandler({ source, config });
    },
    { error: (message, details) => logger().error(message, details ?? {}) },
  );
  return built(...args);
};
