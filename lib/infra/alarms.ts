import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { API_FUNCTIONS } from '../api/routes.ts';
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

/**
 * The few alarms that mean someone should look. Domain refusals end executions in Fail states and
 * surface as step-function errors by design, so step functions and failed executions are not alarmed;
 * the API functions turn refusals into responses, so their errors are real.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { config, functions } = props;
    const t = config.alarms;
    const fiveMinutes = Duration.minutes(5);
    this.topic = new sns.Topic(this, 'Topic', { topicName: `${config.namePrefix}-alarms`, enforceSSL: true });
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
