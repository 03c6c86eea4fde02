import { existsSync, statSync } from 'node:fs';
import { Duration, RemovalPolicy, Stack, type CfnElement } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { hostedUiOrigin } from './api.ts';
import { acknowledge, wildcardResource } from './nag.ts';
import type { StageConfig } from './stage-config.ts';
import { webContentSecurityPolicy } from '../web-content-policy.ts';

/** What the web app reads at start to find its API and user pool (served next to index.html, never cached). */
export const WEB_RUNTIME_CONFIG_FILE = 'config.json';

export interface WebRuntimeConfig {
  stage: string;
  region: string;
  apiUrl: string;
  userPoolId: string;
  userPoolClientId: string;
  /** The hosted UI's origin (https://<prefix>.auth.<region>.amazoncognito.com): its presence turns on hosted-UI sign-in. */
  hostedUiDomain: string;
  /** The client's callback URL (https://<distribution>/sign-in), exactly as registered on the client. */
  redirectUri: string;
  /** The client's sign-out URL (https://<distribution>/), exactly as registered. */
  logoutUri: string;
  /** The scopes to ask for, space-separated as OAuth sends them. */
  scope: string;
}

/**
 * The Content-Security-Policy of the web app: its own scripts and styles only, API calls to the
 * HTTP API of this region and the token endpoint of the user pool's hosted UI, never framed. The
 * API's own host cannot be named here: the API allows the distribution's origin (CORS), so the
 * distribution cannot also depend on the API; the hosted UI's origin is built from the stage's
 * domain prefix for the same reason. Going to the hosted UI to sign in or out is a top-level
 * navigation (location.assign), which no CSP directive restricts (form-action covers form posts
 * only, and the app posts none there), so only connect-src names it.
 */
export function contentSecurityPolicy(region: string, urlSuffix: string, hostedUi: string): string {
  return webContentSecurityPolicy([`https://*.execute-api.${region}.${urlSuffix}`, hostedUi], { upgradeInsecureRequests: true });
}

export interface WebProps {
  config: StageConfig;
  /** Encrypts the log group of the deployment function. */
  logKey: kms.IKey;
}

/**
 * The single-page web app: a private, encrypted S3 bucket (public access blocked, TLS only) read by
 * CloudFront alone through an origin access control, with security headers on every response and
 * access logs (CloudFront's and S3's) in a log bucket that expires them with the stage's retention.
 */
export class Web extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeaders: cloudfront.ResponseHeadersPolicy;
  private readonly config: StageConfig;
  private readonly logKey: kms.IKey;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.logKey = props.logKey;
    const stack = Stack.of(this);
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // CloudFront's standard logs are written with an ACL, so this bucket keeps ACLs (owner-preferred);
    // the logs hold viewers' IP addresses and expire with the stage's log retention.
    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(config.logRetentionDays) }],
      removalPolicy,
    });

    // SSE-S3, not the data key: the bucket holds only the built web app (no personal data), and
    // CloudFront reading SSE-KMS objects would need the key to trust this distribution, which
    // depends on the bucket.
    this.bucket = new s3.Bucket(this, 'Site', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      removalPolicy,
    });

    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: `${config.namePrefix}-web-security-headers`,
      comment: 'Wraparound web app: HSTS, CSP, no sniffing, no framing, no referrer',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(stack.region, stack.urlSuffix, hostedUiOrigin(config.cognitoDomainPrefix, stack.region)), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        // Paths carry plan and allocation ids: never send them to another site.
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        // The legacy XSS auditor is off in modern browsers and harmful where it is not; CSP does the work.
        xssProtection: { protection: false, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()', override: true },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Wraparound web app (${config.stage})`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeaders,
        compress: true,
      },
      // Client-side routes: a path that is not a file is the app's (the bucket answers 403 without ListBucket).
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(10) })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      geoRestriction: cloudfront.GeoRestriction.allowlist(...config.web.allowedCountries),
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      logIncludesCookies: false,
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      "The distribution uses CloudFront's default *.cloudfront.net certificate, whose viewer TLS policy CloudFront fixes (TLSv1); with a custom domain, give it an ACM certificate and minimumProtocolVersion TLSv1.2_2021.",
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'It serves only the static, public build of the web app (no data, no forms posted to it); the API is a separate origin with JWT auth and throttling. A CloudFront web ACL must live in us-east-1: attach one from a us-east-1 stack if a threat assessment asks for it.',
    );
  }

  /** The web app's origin, the one the API allows (CORS). */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /**
   * Deploy the built web app (e.g. web/dist) with its runtime config, when that folder exists:
   * assets (content-hashed by the build) cached for a year, index.html and config.json with
   * `no-cache`, which CloudFront's CachingOptimized policy keeps for its 1 s minimum only, so no
   * invalidation (and no cloudfront:CreateInvalidation on Resource "*") is needed. Returns whether
   * anything was deployed.
   */
  deploy(distDir: string | undefined, runtimeConfig: WebRuntimeConfig): boolean {
    if (!distDir || !existsSync(distDir) || !statSync(distDir).isDirectory()) return false;
    const { config } = this;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', {
      logGroupName: `/aws/lambda/${config.namePrefix}-web-deployment`,
      retention: config.logRetentionDays as logs.RetentionDays,
      encryptionKey: this.logKey,
      removalPolicy,
    });
    const entryPoints = ['index.html', WEB_RUNTIME_CONFIG_FILE];
    const common = {
      destinationBucket: this.bucket,
      memoryLimit: 256,
      logGroup,
      // A dev stack empties its bucket on the way out, so the stack can delete it.
      retainOnDelete: config.retainData,
    };
    const assets = new s3deploy.BucketDeployment(this, 'Assets', {
      ...common,
      sources: [s3deploy.Source.asset(distDir, { exclude: entryPoints })],
      exclude: entryPoints,
      prune: true,
      cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(Duration.days(365)), s3deploy.CacheControl.immutable()],
    });
    const entry = new s3deploy.BucketDeployment(this, 'EntryPoints', {
      ...common,
      sources: [s3deploy.Source.asset(distDir, { exclude: ['*', '!index.html'] }), s3deploy.Source.jsonData(WEB_RUNTIME_CONFIG_FILE, runtimeConfig)],
      prune: false,
      cacheControl: [s3deploy.CacheControl.noCache()],
    });
    // index.html names the new assets: it goes up once they are there.
    entry.node.addDependency(assets);

    // One function (a CDK singleton, run only while CloudFormation deploys) does both deployments;
    // its role and runtime are CDK's. The grants stay within the CDK assets bucket and this site bucket.
    const role = assets.handlerRole;
    const stackOf = Stack.of(this);
    const siteArn = `<${stackOf.resolve((this.bucket.node.defaultChild as CfnElement).logicalId) as string}.Arn>/*`;
    acknowledge(
      role,
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => `AwsSolutions-IAM5[Action::${action}]`),
        wildcardResource('arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*'),
        wildcardResource(siteArn),
      ],
      "CDK's BucketDeployment function comes with this role: it copies the web app from the CDK assets bucket into the site bucket and prunes old files (object-level wildcards on those two buckets only); it runs only during a deploy, logging to its own encrypted log group.",
    );
    acknowledge(role.node.scope as Construct, 'AwsSolutions-L1', "CDK pins the Python runtime of its BucketDeployment function (run only during a deploy); it moves with aws-cdk-lib upgrades.");
    return true;
  }
}
