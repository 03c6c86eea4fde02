import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../lib/infra/functions.ts';
import { stageConfigFromContext, type StageConfig, type StageName } from '../../lib/infra/stage-config.ts';
import { WraparoundStack } from '../../lib/infra/wraparound-stack.ts';

export interface Synthesized {
  config: StageConfig;
  stack: WraparoundStack;
  template: Template;
  /** The cloud assembly directory (bundled function code lives under asset.<hash>/). */
  outdir: string;
  cleanup: () => void;
}

/**
 * Synthesize the stack as `cdk synth -c stage=<stage>` would (same feature flags from cdk.json;
 * `context` as further `-c` options).
 * `bundle: false` skips esbuild, for tests that only read the template. Stages synthesized into the
 * same `outdir` share bundles: they are named by a hash of their sources, so the second one finds
 * them already staged.
 */
export function synthStack(
  stage: StageName,
  {
    bundle,
    outdir = mkdtempSync(join(tmpdir(), 'wraparound-cdk-')),
    context = {},
    webDistDir,
  }: { bundle: boolean; outdir?: string; context?: Record<string, unknown>; webDistDir?: string },
): Synthesized {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { ...cdkJson.context, ...context, stage, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const config = stageConfigFromContext(app.node);
  const stack = new WraparoundStack(app, config.stackName, { config, ...(webDistDir ? { webDistDir } : {}) });
  const template = Template.fromStack(stack);
  return { config, stack, template, outdir, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

type CfnValue = unknown;

/**
 * Turn an `Fn::Join` of a state machine definition back into its JSON: the partition is `aws`,
 * and a Lambda function's ARN is a placeholder carrying that function's physical name.
 */
export function resolveDefinition(template: Template, definition: CfnValue): Record<string, unknown> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const piece = (value: CfnValue): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (v.Ref === 'AWS::Partition') return 'aws';
    if (v.Ref === 'AWS::Region') return 'eu-west-2';
    if (v.Ref === 'AWS::AccountId') return '000000000000';
    const getAtt = v['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt) {
      const [logicalId, attribute] = getAtt;
      const resource = resources[logicalId];
      if (resource?.Type === 'AWS::Lambda::Function' && attribute === 'Arn') return `arn:aws:lambda:eu-west-2:000000000000:function:${String(resource.Properties?.FunctionName)}`;
      return `placeholder:${logicalId}.${attribute}`;
    }
    throw new Error(`Unexpected piece in the state machine definition: ${JSON.stringify(value)}`);
  };
  if (typeof definition === 'string') return JSON.parse(definition) as Record<string, unknown>;
  const join = (definition as Record<string, [string, CfnValue[]]>)['Fn::Join'];
  if (!join) throw new Error(`DefinitionString is neither a string nor an Fn::Join: ${JSON.stringify(definition).slice(0, 200)}`);
  const [separator, parts] = join;
  return JSON.parse(parts.map(piece).join(separator)) as Record<string, unknown>;
}
