import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GROUP_OF_ROLE } from '../api/auth.ts';
import { ROLES, ROUTES, type ApiFunctionName } from '../api/routes.ts';
import { acknowledge } from './nag.ts';
import type { StageConfig } from './stage-config.ts';

/** The custom attribute that ties a provider's users to their organisation (`custom:providerId` in the ID token). */
export const PROVIDER_ID_ATTRIBUTE = 'providerId';

export interface ApiProps {
  config: StageConfig;
  functions: Record<ApiFunctionName, IFunction>;
  /** The web app's origin (https://<distribution>.cloudfront.net): the browser origin CORS allows. */
  webOrigin: string;
  /** Encrypts the access log group. */
  logKey: kms.IKey;
}

/**
 * Cognito users (one group per role) and the HTTP API built from the ROUTES table: every route that
 * is not public goes through a JWT authorizer on the user pool; the handlers then check the role.
 */
export class Api extends Construct {
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly authorizer: HttpJwtAuthorizer;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Staff are invited by an administrator; nobody signs themselves up to see support plans.
    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${config.namePrefix}-users`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true }, fullname: { required: false, mutable: true } },
      customAttributes: { [PROVIDER_ID_ATTRIBUTE]: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: true }) },
      passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
      mfa: config.mfa === 'REQUIRED' ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan[config.cognitoFeaturePlan],
      // Threat protection (compromised credentials, risky sign-ins blocked) needs the Plus plan.
      ...(config.cognitoFeaturePlan === 'PLUS' ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION } : {}),
      deletionProtection: config.retainData,
      removalPolicy,
    });
    if (config.mfa !== 'REQUIRED') {
      acknowledge(this.userPool, 'AwsSolutions-COG2', `The ${config.stage} stage holds test data only and its test users sign in from scripts; MFA is optional here and required in prod (stage config mfa).`);
    }
    if (config.cognitoFeaturePlan !== 'PLUS') {
      acknowledge(this.userPool, 'AwsSolutions-COG8', `The ${config.stage} stage has no real users to protect; prod is on the Plus plan with threat protection enforced (stage config cognitoFeaturePlan).`);
    }
    for (const role of ROLES) {
      this.userPool.addGroup(`group-${role}`, { groupName: GROUP_OF_ROLE[role], description: `Wraparound ${role}s` });
    }

    // Users may read their provider id but never write it: it decides whose offers they see.
    this.userPoolClient = this.userPool.addClient('WebClient', {
      userPoolClientName: `${config.namePrefix}-web`,
      generateSecret: false,
      disableOAuth: true,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true, fullname: true }).withCustomAttributes(PROVIDER_ID_ATTRIBUTE),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, fullname: true }),
    });

    this.authorizer = new HttpJwtAuthorizer('CognitoJwt', this.userPool.userPoolProviderUrl, {
      authorizerName: 'cognito',
      jwtAudience: [this.userPoolClient.userPoolClientId],
    });

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${config.namePrefix}-api`,
      description: 'Wraparound support-plan API',
      createDefaultStage: false,
      // Browsers may call the API from the web app alone (plus the stage's extra origins, e.g. a local dev server).
      corsPreflight: {
        allowOrigins: [props.webOrigin, ...config.extraCorsOrigins],
        allowMethods: [...new Set(ROUTES.map((r) => r.method)), 'OPTIONS' as const].map((m) => apigw.CorsHttpMethod[m]),
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        exposeHeaders: ['location', 'idempotent-replayed'],
        maxAge: Duration.hours(1),
      },
    });

    // Access logs record what was called and how it went, never who the plan is about: no paths
    // with ids, no bodies, no caller IPs.
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/vendedlogs/apigateway/${config.namePrefix}-api`,
      retention: config.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logKey,
      removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: config.apiThrottle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    const integrations = new Map<ApiFunctionName, HttpLambdaIntegration>();
    const integrationOf = (name: ApiFunctionName) => {
      let integration = integrations.get(name);
      if (!integration) integrations.set(name, (integration = new HttpLambdaIntegration(`${name}-integration`, props.functions[name])));
      return integration;
    };

    for (const route of ROUTES) {
      const added = this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrationOf(route.fn),
        ...(route.roles === 'public' ? {} : { authorizer: this.authorizer }),
      });
      if (route.roles === 'public') {
        for (const r of added) {
          acknowledge(r, 'AwsSolutions-APIG4', `${route.method} ${route.path} is public by design (ROUTES roles 'public'): health, the OpenAPI document and the published service directory, no plan data; throttled with the stage.`);
        }
      }
    }
  }

  get url(): string {
    return this.stage.url;
  }
}
