/**
 * Part 6a: the Lambda bundles. `cdk synth --quiet` into a directory of the system's temp dir named
 * after this checkout (kept between runs: bundles are named by a hash of their sources, so an
 * unchanged tree is not bundled again; outside the tree, so lint and git never see it), then the
 * size of each function's minified index.mjs, found through the synthesized template as test/infra does.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FUNCTION_NAMES, FUNCTION_SPECS, PROJECT_ROOT } from '../lib/infra/functions.ts';

export interface BundleSize {
  name: string;
  memoryMb: number;
  bundleBytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
}

export interface BundlesResult {
  synthMs: number;
  outdir: string;
  functions: BundleSize[];
  largestBytes: number;
}

export const BUNDLE_LIMIT_BYTES = 1_000_000;

function synth(outdir: string): Promise<void> {
  const cdk = join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  // The app runs with `node` from PATH (cdk.json): make that this Node.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${join(PROJECT_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cdk, 'synth', '--quiet', '--output', outdir], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cdk synth failed (${code}):\n${stderr.slice(-3000)}`))));
  });
}

export async function measureBundles(outdir = join(tmpdir(), `wraparound-bench-cdk-${createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 8)}`)): Promise<BundlesResult> {
  const started = performance.now();
  await synth(outdir);
  const synthMs = performance.now() - started;
  const templateFile = readdirSync(outdir).find((f) => f.endsWith('.template.json'));
  if (!templateFile) throw new Error(`no template in ${outdir}`);
  const template = JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const lambdas = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const functions = FUNCTION_NAMES.map((name) => {
    const fn = lambdas.find((r) => String(r.Properties.FunctionName ?? '').endsWith(`-${name}`));
    if (!fn) throw new Error(`no function ${name} in ${templateFile}`);
    const key = (fn.Properties.Code as { S3Key: string }).S3Key;
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const bundle = join(dir, 'index.mjs');
    const map = join(dir, 'index.mjs.map');
    return {
      name,
      memoryMb: FUNCTION_SPECS[name].memoryMb,
      bundleBytes: statSync(bundle).size,
      gzipBytes: gzipSync(readFileSync(bundle)).length,
      sourceMapBytes: existsSync(map) ? statSync(map).size : 0,
    };
  });
  return { synthMs, outdir, functions, largestBytes: Math.max(...functions.map((f) => f.bundleBytes)) };
}
