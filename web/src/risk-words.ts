import { label } from './domain.ts';
import type { Risks } from './types.ts';

/** What a page shows for a risk the assessment left out: it was not assessed, which is not "None" or "No". */
export const NOT_ASSESSED = 'Not assessed';

/** Each risk of an assessment in words, as the plan and allocation pages show them. */
export function riskWords(risks: Risks): { domesticAbuse: string; selfHarm: string; safeguardingChildren: string } {
  const yesNo = (value: boolean | undefined) => (value === undefined ? NOT_ASSESSED : value ? 'Yes' : 'No');
  return {
    domesticAbuse: risks.domesticAbuse === undefined ? NOT_ASSESSED : label(risks.domesticAbuse),
    selfHarm: yesNo(risks.selfHarm),
    safeguardingChildren: yesNo(risks.safeguardingChildren),
  };
}
