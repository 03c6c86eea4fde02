import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { API_FUNCTIONS } from '../api/routes.ts';
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_DIMENSION } from '../runtime/observability.ts';
import { overduePlansMetric } from './alarms.ts';
import { FUNCTION_NAMES, type FunctionName } from './functions.ts';
import type { ProviderChannel } from './provider-delivery.ts';
import type { StageConfig } from './stage-config.ts';

export interface DashboardProps {
  config: StageConfig;
  httpApi: apigw.HttpApi;
  stateMachine: sfn.StateMachine;
  functions: Record<FunctionName, IFunction>;
  busDeadLetters: sqs.IQueue;
  providerChannels: readonly Pick<ProviderChannel, 'providerId' | 'deadLetterQueue'>[];
  alarms: readonly cloudwatch.IAlarm[];
}

/**
 * One CloudWatch dashboard for the stage: alarm states first, then the API, the PlanCommand
 * executions, the functions, the sweeper and deadlines, and what providers have not received.
 */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { config, functions, stateMachine, httpApi } = props;
    const period = Duration.minutes(5);
    const sum = { period, statistic: 'Sum' };
    const perFunction = (metric: (fn: IFunction) => cloudwatch.IMetric, names: readonly FunctionName[] = FUNCTION_NAMES) => names.map((name) => metric(functions[name]));
    const custom = (metricName: string, label: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { [SERVICE_DIMENSION]: config.namePrefix }, period, statistic: 'Sum', label });
    const width = 8;
    const height = 6;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: config.namePrefix,
      defaultInterval: Duration.hours(24),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 })],
        [
          new cloudwatch.GraphWidget({
            title: 'API requests and errors',
            left: [httpApi.metricCount({ ...sum, label: 'requests' })],
            right: [httpApi.metricClientError({ ...sum, label: '4xx' }), httpApi.metricServerError({ ...sum, label: '5xx' })],
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency (p50, p99)',
            left: [httpApi.metricLatency({ period, statistic: 'p50', label: 'p50' }), httpApi.metricLatency({ period, statistic: 'p99', label: 'p99' })],
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'API function errors',
            left: perFunction((fn) => fn.metricErrors(sum), API_FUNCTIONS),
            width,
            height,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'PlanCommand executions',
            left: [
              stateMachine.metricStarted({ ...sum, label: 'started' }),
              stateMachine.metricSucceeded({ ...sum, label: 'succeeded' }),
              stateMachine.metricFailed({ ...sum, label: 'failed (refusals included)' }),
            ],
            right: [stateMachine.metricTimedOut({ ...sum, label: 'timed out' }), stateMachine.metricThrottled({ ...sum, label: 'throttled' })],
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'PlanCommand duration (p50, p99)',
            left: [stateMachine.metricTime({ period, statistic: 'p50', label: 'p50' }), stateMachine.metricTime({ period, statistic: 'p99', label: 'p99' })],
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'Function duration (p99)',
            left: perFunction((fn) => fn.metricDuration({ period, statistic: 'p99' })),
            width,
            height,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Function throttles',
            left: perFunction((fn) => fn.metricThrottles(sum)),
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'Cold starts',
            // Powertools puts the function's name on its ColdStart metric.
            left: FUNCTION_NAMES.map(
              (name) =>
                new cloudwatch.Metric({
                  namespace: METRICS_NAMESPACE,
                  metricName: METRIC_NAMES.coldStart,
                  dimensionsMap: { [SERVICE_DIMENSION]: config.namePrefix, function_name: `${config.namePrefix}-${name}` },
                  period,
                  statistic: 'Sum',
                  label: name,
                }),
            ),
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'Sweeper',
            left: [functions.sweeper.metricInvocations({ ...sum, label: 'runs' }), functions.sweeper.metricErrors({ ...sum, label: 'errors' })],
            right: [
              custom(METRIC_NAMES.timersSent, 'timers sent'),
              custom(METRIC_NAMES.timersRefused, 'timers refused'),
              custom(METRIC_NAMES.plansRedelivered, 'plans redelivered'),
              custom(METRIC_NAMES.redeliveryFailures, 'redeliveries failed'),
            ],
            width,
            height,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Overdue plans',
            left: [overduePlansMetric(config, period).with({ label: 'open plans with a deadline past due' })],
            leftAnnotations: [{ value: config.alarms.overduePlans, label: 'alarm', color: cloudwatch.Color.RED }],
            width,
            height,
          }),
          new cloudwatch.GraphWidget({
            title: 'Undelivered events (dead letters)',
            left: [
              ...props.providerChannels.map((c) => c.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: c.providerId })),
              props.busDeadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'bus' }),
            ],
            width: 16,
            height,
          }),
        ],
      ],
    });
  }
}
