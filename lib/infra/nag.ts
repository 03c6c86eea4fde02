import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge cdk-nag findings (AwsSolutions pack) on one construct and what it contains, with the
 * reason: the suppression and its justification live next to the resource they are about. Use the
 * narrowest scope (the resource, or the role whose policy it is) and, for findings that carry one,
 * the finding itself (`AwsSolutions-IAM5[Resource::*]`), never a whole rule on the stack.
 * test/infra/nag.test.ts fails on any finding not acknowledged, and on any acknowledgement that no
 * longer matches a finding.
 */
export function acknowledge(scope: IConstruct, findings: string | readonly string[], reason: string): void {
  if (reason.trim().length < 20) throw new Error(`A cdk-nag acknowledgement needs a real reason, not "${reason}"`);
  for (const id of [findings].flat()) Validations.of(scope).acknowledge({ id, reason });
}

/** The IAM5 finding id for a wildcard resource as cdk-nag prints it, e.g. `<FunctionsdecideABCD1234.Arn>:*`. */
export const wildcardResource = (resource: string): string => `AwsSolutions-IAM5[Resource::${resource}]`;
