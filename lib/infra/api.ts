import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GROUP_OF_ROLE, ROLES, ROUTES, type ApiFunctionName } from '../api/routes.ts';
import { documentedHeaders } from '../api/openapi.ts';
import { acknowledge } from './nag.ts';
import type { StageConfig } from './stage-config.ts';

/** The custom attribute that ties a provider's users to their organisation (`custom:providerId` in the ID token). */
export const PROVIDER_ID_ATTRIBUTE = 'providerId';

/**
 * What the web app asks the hosted UI for: `openid` for an ID token at all, `email` and `profile` for
 * the address and name it shows. The ID token carries `cognito:groups` and `custom:providerId` (the
 * client's read attributes) whatever the scopes.
 */
export const WEB_OAUTH_SCOPES = ['openid', 'email', 'profile'] as const;

/** The web app's page the hosted UI sends a person back to with `?code=&state=` (web/src/paths.ts). */
export const SIGN_IN_PATH = '/sign-in';

/**
 * The origin of a user pool's hosted UI on a Cognito prefix domain. Built from the stage's prefix,
 * not from the domain resource, so the web app's CSP can name it without the distribution depending
 * on the user pool (whose client depends on the distribution for its callback URL).
 */
export function hostedUiOrigin(domainPrefix: string, region: string): string {
  return `https://${domainPrefix}.auth.${region}.amazoncognito.com`;
}

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
  /** The hosted UI's Cognito prefix domain. */
  readonly userPoolDomain: cognito.UserPoolDomain;
  /** https://<prefix>.auth.<region>.amazoncognito.com: where the web app sends people to sign in and out. */
  readonly hostedUiOrigin: string;
  /** Where the hosted UI may send a person back to: after sign-in with a code, after sign-out. */
  readonly signInRedirectUri: string;
  readonly signOutRedirectUri: string;
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

    // The hosted UI, on a Cognito prefix domain. The classic hosted UI needs no branding resource per
    // client (the newer managed login does).
    this.userPoolDomain = this.userPool.addDomain('HostedUi', {
      cognitoDomain: { domainPrefix: config.cognitoDomainPrefix },
      managedLoginVersion: cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });
    this.hostedUiOrigin = hostedUiOrigin(config.cognitoDomainPrefix, Stack.of(this).region);
    this.signInRedirectUri = `${props.webOrigin}${SIGN_IN_PATH}`;
    this.signOutRedirectUri = `${props.webOrigin}/`;

    // The web app's client. A single-page app cannot keep a secret, so it is a public client (no
    // secret) using the authorization code grant, which the app always sends with a PKCE S256
    // challenge; no implicit grant (tokens in the URL), no client credentials. It returns only to the
    // web app's own origin. Tokens suit a shared office computer: ID and access tokens last an hour
    // and the refresh token 12 hours (a working day), after which the person signs in again; the app
    // keeps them in the tab's session storage only. Users may read their provider id but never write
    // it: it decides whose offers they see.
    this.userPoolClient = this.userPool.addClient('WebClient', {
      userPoolClientName: `${config.namePrefix}-web`,
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: WEB_OAUTH_SCOPES.map((scope) => ({ openid: cognito.OAuthScope.OPENID, email: cognito.OAuthScope.EMAIL, profile: cognito.OAuthScope.PROFILE })[scope]),
        callbackUrls: [this.signInRedirectUri],
        logoutUrls: [this.signOutRedirectUri],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      // SRP for test users signing in from scripts; refresh tokens come with it.
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true, fullname: true }).withCustomAttributes(PROVIDER_ID_ATTRIBUTE),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, fullname: true }),
    });

    // The web app sends the ID token: it carries cognito:groups and custom:providerId, which
    // principalOf (lib/api/auth.ts) reads, and its aud is this client (an access token has no aud
    // and no custom attributes).
    this.authorizer = new HttpJwtAuthorizer('CognitoJwt', this.userPool.userPoolProviderUrl, {
      authorizerName: 'cognito',
      jwtAudience: [this.userPoolClient.userPoolClientId],
    });

    const documented = documentedHeaders();
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${config.namePrefix}-api`,
      description: 'Wraparound support-plan API',
      createDefaultStage: false,
      // Browsers may call the API from the web app alone (plus the stage's extra origins, e.g. a local dev server).
      corsPreflight: {
        allowOrigins: [props.webOrigin, ...config.extraCorsOrigins],
        allowMethods: [...new Set(ROUTES.map((r) => r.method)), 'OPTIONS' as const].map((m) => apigw.CorsHttpMethod[m]),
        // Every request header the OpenAPI document declares may be sent, and every response header it
        // declares read: taken from the document, so a header documented is one the browser can use.
        allowHeaders: documented.sent,
        exposeHeaders: documented.answered,
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
