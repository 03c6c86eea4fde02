import { join } from 'node:path';
import { App, Tags } from 'aws-cdk-lib';
import { PROJECT_ROOT } from '../lib/infra/functions.ts';
import { WraparoundStack } from '../lib/infra/wraparound-stack.ts';
import { stageConfigFromContext } from '../lib/infra/stage-config.ts';

/**
 * The CDK app: `cdk synth` (dev) or `cdk synth -c stage=prod`, with providers' webhook URLs from
 * `-c providerWebhooks='{"bcwa":"https://..."}'` (or cdk.context.json). Environment-agnostic, so it
 * synthesizes offline. CDK's built-in CloudFormation schema validation takes several seconds and
 * only ever warns, so it is opt-in: `CDK_VALIDATION=true cdk synth`.
 *
 * The web app is deployed from web/dist when that folder exists at synth time (build it first);
 * without it the stack still has the bucket and the distribution, and a later deploy fills them.
 */
const app = new App({ builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true' });
const config = stageConfigFromContext(app.node);

const stack = new WraparoundStack(app, config.stackName, {
  config,
  webDistDir: join(PROJECT_ROOT, 'web', 'dist'),
  description: `Wraparound support-plan workflow engine (${config.stage})`,
  terminationProtection: config.retainData,
});
Tags.of(stack).add('app', 'wraparound');
Tags.of(stack).add('stage', config.stage);

app.synth();
