import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';

/**
 * Powertools for AWS Lambda (logger, metrics, tracer) for the Lambda entry points, and the names the
 * CDK stack shares with them (environment, metric namespace and names), so alarms and dashboards
 * watch exactly what the functions emit.
 *
 * Plans carry special-category personal data: nothing here logs an event, a response or a plan.
 * Outside Lambda (the embedded stack, tests) every helper is a no-op that passes values through.
 */

/** Powertools' own settings, set by the stack on every function. */
export const OBSERVABILITY_ENV = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Never log incoming events: they carry names, dates of birth and needs. */
  logEvent: 'POWERTOOLS_LOGGER_LOG_EVENT',
  /** Never put responses (plans) into trace metadata. */
  tracerCaptureResponse: 'POWERTOOLS_TRACER_CAPTURE_RESPONSE',
} as const;

/** The CloudWatch namespace of the functions' own metrics; the `service` dimension is the stage's name prefix. */
export const METRICS_NAMESPACE = 'Wraparound';

/** The custom metrics (EMF) the functions emit and the stack alarms on or charts. */
export const METRIC_NAMES = {
  /** Powertools' cold-start count, per function (dimensions service, function_name). */
  coldStart: 'ColdStart',
  /**
   * Open plans with at least one deadline past due (the `GET /plans?due=overdue` worklist), a gauge
   * the sweeper emits once per run. The stack alarms on its maximum.
   */
  overduePlans: 'OverduePlans',
  /** Per sweep: timer commands started, refused (a concurrent change won), plans redelivered, redeliveries failed. */
  timersSent: 'TimersSent',
  timersRefused: 'TimersRefused',
  plansRedelivered: 'PlansRedelivered',
  redeliveryFailures: 'RedeliveryFailures',
} as const;

/** The dimension Powertools puts on every metric: the service name (the stage's name prefix). */
export const SERVICE_DIMENSION = 'service';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  /** Lambda only (see TracerClass). */
  tracer?: Tracer;
}

/** Whether this process is a Lambda function (the Lambda runtime sets its name). */
export const inLambda = (env: Record<string, string | undefined> = process.env): boolean => Boolean(env.AWS_LAMBDA_FUNCTION_NAME);

/**
 * The tracer is loaded in Lambda only: loading it starts the X-Ray SDK's context tracking, an async
 * hook on every promise of the process, which cost the embedded stack's thread ~18 % of its CPU.
 */
const TracerClass = inLambda() ? (await import('@aws-lambda-powertools/tracer')).Tracer : undefined;

let instance: Observability | undefined;

/** The container's logger, metrics and tracer, made on first use. */
export function observability(): Observability {
  if (instance) return instance;
  const serviceName = process.env[OBSERVABILITY_ENV.serviceName] ?? 'wraparound';
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  instance = {
    // The function name on every line, also for entry points that never see the Lambda context.
    logger: new Logger({ serviceName, ...(functionName ? { persistentKeys: { function_name: functionName } } : {}) }),
    metrics: new Metrics({ serviceName, namespace: process.env[OBSERVABILITY_ENV.metricsNamespace] ?? METRICS_NAMESPACE }),
    // The AWS SDK clients are traced one by one (traced()); global https patching would add nothing.
    ...(TracerClass ? { tracer: new TracerClass({ serviceName, captureHTTPsRequests: false }) } : {}),
  };
  return instance;
}

/** The shared logger (console-backed outside Lambda too, at POWERTOOLS_LOG_LEVEL). Log ids and counts, never plan contents. */
export const logger = (): Logger => observability().logger;

/** An AWS SDK v3 client whose calls become X-Ray subsegments in Lambda; the same client elsewhere. */
export function traced<T>(client: T): T {
  const tracer = inLambda() ? observability().tracer : undefined;
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/** Count this container's cold start once (emitted at once, so no flush is needed). */
export function recordColdStart(): void {
  if (!inLambda()) return;
  const { metrics, tracer } = observability();
  metrics.captureColdStartMetric(process.env.AWS_LAMBDA_FUNCTION_NAME);
  tracer?.annotateColdStart();
}

/**
 * A Lambda entry point with the Lambda context on its log lines, a cold-start metric and the
 * metrics it stored flushed at the end. The event is never logged. Outside Lambda: the handler as it is.
 */
export function observed<E, R>(handler: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  if (!inLambda()) return (event: E) => handler(event);
  return async (event: E, context?: Context) => {
    const { logger: log, metrics } = observability();
    if (context) log.addContext(context);
    recordColdStart();
    try {
      return await handler(event);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** What one sweep did: the sweeper's SweepReport plus the overdue gauge. */
export interface SweepMetrics {
  timersSent: number;
  timersRefused: number;
  plansRedelivered: number;
  redeliveryFailures: number;
  /** Open plans with a deadline past due after this sweep (omit when not counted). */
  overduePlans?: number;
}

/** Emit one sweep's counts (the stack's overdue-plans alarm and the dashboard read them). */
export function recordSweep(report: SweepMetrics): void {
  if (!inLambda()) return;
  const { metrics } = observability();
  metrics.addMetric(METRIC_NAMES.timersSent, MetricUnit.Count, report.timersSent);
  metrics.addMetric(METRIC_NAMES.timersRefused, MetricUnit.Count, report.timersRefused);
  metrics.addMetric(METRIC_NAMES.plansRedelivered, MetricUnit.Count, report.plansRedelivered);
  metrics.addMetric(METRIC_NAMES.redeliveryFailures, MetricUnit.Count, report.redeliveryFailures);
  if (report.overduePlans !== undefined) metrics.addMetric(METRIC_NAMES.overduePlans, MetricUnit.Count, report.overduePlans);
  metrics.publishStoredMetrics();
}
