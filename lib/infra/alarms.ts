import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { API_FUNCTIONS } from '../api/routes.ts';
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_DIMENSION } from '../runtime/observability.ts';
import type { FunctionName } from './functions.ts';
import type { ProviderChannel } from './provider-delivery.ts';
import type { StageConfig } from './stage-config.ts';

export interface AlarmsProps {
  config: StageConfig;
  httpApi: apigw.HttpApi;
  stateMachine: sfn.StateMachine;
  functions: Record<FunctionName, IFunction>;
  bus: events.IEventBus;
  busDeadLetters: sqs.IQueue;
  providerChannels: readonly Pick<ProviderChannel, 'providerId' | 'rule' | 'deadLetterQueue'>[];
}

/** The sweeper's overdue-plans gauge, as the functions emit it (Powertools EMF, lib/runtime/observability.ts). */
export function overduePlansMetric(config: StageConfig, period: Duration = Duration.minutes(15)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: METRIC_NAMES.overduePlans,
    dimensionsMap: { [SERVICE_DIMENSION]: config.namePrefix },
    period,
    statistic: 'Maximum',
  });
}

/**
 * The few alarms that mean someone should look. Domain refusals end executions in Fail states and
 * surface as step-function errors by design, so step functions are not alarmed one by one and failed
 * executions only as a share of those started; the API functions turn refusals into responses, so
 * their errors are real.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly all: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { config, functions } = props;
    const t = config.alarms;
    const fiveMinutes = Duration.minutes(5);
    // Its own key rather than the data key: an alarm about the data key (the bus's dead letters)
    // must still be delivered when that key is disabled. CloudWatch may use it for this topic only.
    const topicKey = new kms.Key(this, 'TopicKey', {
      alias: `alias/${config.namePrefix}-alarms`,
      description: 'Wraparound alarm notifications (SNS topic)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    const topicName = `${config.namePrefix}-alarms`;
    this.topic = new sns.Topic(this, 'Topic', { topicName, enforceSSL: true, masterKey: topicKey });
    // The topic's ARN from its name: a reference would make the key depend on the topic it encrypts.
    const topicArn = Stack.of(this).formatArn({ service: 'sns', resource: topicName, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': topicArn } },
      }),
    );
    const notify = new actions.SnsAction(this.topic);

    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold: number, extra: Partial<cloudwatch.CreateAlarmOptions> = {}) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${config.namePrefix}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...extra,
      });
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      this.all.push(a);
      return a;
    };

    alarm('api-5xx', 'The API answered with server errors.', props.httpApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' }), t.api5xxPerFiveMinutes);
    for (const name of [...API_FUNCTIONS, 'sweeper'] as const) {
      alarm(`${name}-errors`, `${name} failed outright (not a refusal).`, functions[name].metricErrors({ period: fiveMinutes, statistic: 'Sum' }), t.functionErrorsPerFiveMinutes);
    }
    alarm(
      'publish-errors',
      'Events could not be published and were left in outboxes for the sweeper.',
      functions['publish-events'].metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      t.publishErrorsPerFiveMinutes,
    );
    alarm('execution-timeouts', 'PlanCommand executions timed out.', props.stateMachine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }), t.executionTimeoutsPerFiveMinutes);
    alarm(
      'execution-throttles',
      'PlanCommand executions were throttled (Express StartSyncExecution quota): commands were refused with 5xx.',
      props.stateMachine.metricThrottled({ period: fiveMinutes, statistic: 'Sum' }),
      t.executionThrottlesPerFiveMinutes,
    );
    // Refusals end in Fail states too: judge the share of failures, and only over enough executions.
    const fifteenMinutes = Duration.minutes(15);
    alarm(
      'execution-failures',
      `More than ${t.executionFailurePercent}% of PlanCommand executions failed (refusals included) over 15 minutes with at least ${t.minExecutionsForRate} started: look for errors other than the domain's refusals in the state machine's log.`,
      new cloudwatch.MathExpression({
        expression: `IF(started >= ${t.minExecutionsForRate}, 100 * failed / started, 0)`,
        usingMetrics: {
          started: props.stateMachine.metricStarted({ period: fifteenMinutes, statistic: 'Sum' }),
          failed: props.stateMachine.metricFailed({ period: fifteenMinutes, statistic: 'Sum' }),
        },
        label: 'Failed executions (%)',
        period: fifteenMinutes,
      }),
      t.executionFailurePercent,
    );
    alarm(
      'api-5xx-rate',
      `More than ${t.api5xxPercent}% of API responses were server errors over 5 minutes (with at least ${t.minRequestsForRate} requests).`,
      new cloudwatch.MathExpression({
        expression: `IF(requests >= ${t.minRequestsForRate}, 100 * errors / requests, 0)`,
        usingMetrics: {
          requests: props.httpApi.metricCount({ period: fiveMinutes, statistic: 'Sum' }),
          errors: props.httpApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        },
        label: 'API 5xx (%)',
        period: fiveMinutes,
      }),
      t.api5xxPercent,
    );
    // Deadlines nobody acted on: a team lead's worklist (GET /plans?due=overdue) is growing.
    alarm('overdue-plans', `At least ${t.overduePlans} open plans have a deadline past due (the sweeper's ${METRIC_NAMES.overduePlans} gauge).`, overduePlansMetric(config), t.overduePlans);
    // No sweeper run means no deadline fires: no reminders, escalations or offer expiries.
    alarm('sweeper-not-running', 'The sweeper has not run: deadlines are not being turned into timer commands.', functions.sweeper.metricInvocations({ period: Duration.minutes(1), statistic: 'Sum' }), 1, {
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: t.sweeperMissedMinutes,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    // A dead letter is an event a provider never received: someone replays it once the endpoint is fixed.
    const deadLetters = (queue: sqs.IQueue) => queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' });
    for (const { providerId, rule, deadLetterQueue } of props.providerChannels) {
      alarm(
        `${providerId}-dead-letters`,
        `Events for ${providerId} could not be delivered to its webhook: fix the endpoint, then replay them from the archive to rule ${rule.ruleName}.`,
        deadLetters(deadLetterQueue),
        t.deadLetters,
      );
      // Not even dead-lettered: only the archive still has these events.
      alarm(
        `${providerId}-dead-letters-lost`,
        `Events for ${providerId} failed and could not be put in its dead-letter queue: replay them from the archive.`,
        new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName: 'InvocationsFailedToBeSentToDlq',
          dimensionsMap: { EventBusName: props.bus.eventBusName, RuleName: rule.ruleName },
          period: fiveMinutes,
          statistic: 'Sum',
        }),
        1,
      );
    }
    alarm('bus-dead-letters', 'The event bus could not process events (is the data key disabled?).', deadLetters(props.busDeadLetters), t.deadLetters);
  }
}
