import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { API_FUNCTIONS } from '../api/routes.ts';
import type { FunctionName } from './functions.ts';
import type { StageConfig } from './stage-config.ts';

export interface AlarmsProps {
  config: StageConfig;
  httpApi: apigw.HttpApi;
  stateMachine: sfn.StateMachine;
  functions: Record<FunctionName, IFunction>;
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
  }
}
