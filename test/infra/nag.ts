import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface NagFinding {
  rule: string;
  path: string;
}

export interface Acknowledgement {
  /** The finding id as acknowledged, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  id: string;
  /** The construct it was acknowledged on. */
  path: string;
  reason: string;
}

export interface NagRun {
  /** Findings nobody acknowledged: these fail the build. */
  unacknowledged: NagFinding[];
  /** Every acknowledgement in the tree, with the findings it silenced. */
  acknowledgements: (Acknowledgement & { silenced: NagFinding[] })[];
}

const ACKNOWLEDGED = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
/** aws-cdk-lib stores rule ids with an annotation prefix; cdk-nag strips it the same way. */
const ruleIdOf = (key: string) => key.replace(/^annotation::/i, '');

function acknowledgementsOn(construct: IConstruct): Acknowledgement[] {
  return construct.node.metadata
    .filter((entry) => entry.type === ACKNOWLEDGED && entry.data)
    .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([key, reason]) => ({ id: ruleIdOf(key), path: construct.node.path, reason })));
}

/**
 * Run the AwsSolutions pack over a stack as cdk-nag does at synth (NagPack.validateScope), noting
 * which acknowledgement silenced which finding, so a test can refuse both unacknowledged findings
 * and acknowledgements that no longer match anything.
 */
export function runAwsSolutions(scope: IConstruct): NagRun {
  const checks = new AwsSolutionsChecks();
  const silenced = new Map<string, NagFinding[]>();
  const keyOf = (a: Pick<Acknowledgement, 'id' | 'path'>) => `${a.path}\u0000${a.id}`;
  // The pack's own lookup (the resource and its ancestors), recording the match.
  (checks as unknown as { isAcknowledged: (resource: IConstruct, ruleId: string) => boolean }).isAcknowledged = (resource, ruleId) => {
    for (let current: IConstruct | undefined = resource; current; current = current.node.scope) {
      const match = acknowledgementsOn(current).find((a) => a.id === ruleId);
      if (match) {
        const list = silenced.get(keyOf(match)) ?? [];
        list.push({ rule: ruleId, path: resource.node.path });
        silenced.set(keyOf(match), list);
        return true;
      }
    }
    return false;
  };
  const report = checks.validateScope(scope);
  const unacknowledged = report.violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '(unknown)' })));
  const acknowledgements = scope.node
    .findAll()
    .flatMap(acknowledgementsOn)
    .filter((a) => a.id.startsWith('AwsSolutions-'))
    .map((a) => ({ ...a, silenced: silenced.get(keyOf(a)) ?? [] }));
  return { unacknowledged, acknowledgements };
}
