import { addMonths } from './calendar.ts';

/**
 * The follow-ups asked after her exit: whether she reoffended within 6 months, and within 12.
 * The web app reads these too (the follow-up form, the plan's Deadlines, the worklist), so this module
 * imports nothing but calendar.ts (test/browser/web-constants.test.ts).
 */
export const FOLLOW_UP_MONTHS = [6, 12] as const;
export type FollowUpMonthNumber = (typeof FOLLOW_UP_MONTHS)[number];

/**
 * The day a follow-up falls due: `month` calendar months after her exit (31 August + 6 months is the
 * last day of February). It is recorded from that London day on, and the coordinator is reminded then.
 */
export function followUpDueAfterExit(exitedAt: string, month: FollowUpMonthNumber): string {
  return addMonths(exitedAt, month);
}

/** The day a plan's follow-up falls due; none before she exits. */
export function followUpDueAt(plan: { exit?: { exitedAt: string } | null }, month: FollowUpMonthNumber): string | undefined {
  return plan.exit ? followUpDueAfterExit(plan.exit.exitedAt, month) : undefined;
}

/** The follow-up month a follow-up-due deadline's ref names ('6', '12'), if it names one. */
export function followUpMonthOf(ref: string | undefined): FollowUpMonthNumber | undefined {
  return FOLLOW_UP_MONTHS.find((m) => String(m) === ref);
}

/**
 * How long after her 12-month follow-up fell due an exited plan waits for follow-ups nobody recorded:
 * then each is recorded as not obtained ('unknown', which the figures leave out of the follow-ups known,
 * never as no reoffence) and the plan closes, so the retention period starts (it counts from closing) and
 * her identity is not kept for ever. Six months: the waiting period the Ministry of Justice's proven
 * reoffending measure allows for an offence within the year to be proven; what is not known by then will
 * not be. A coordinator who learns the answer later corrects it (correct-follow-up, allowed once closed).
 */
export const FOLLOW_UPS_LAPSE_MONTHS = 6;

/** When an exited plan's follow-ups not yet recorded lapse; none before she exits. */
export function followUpsLapseAt(plan: { exit?: { exitedAt: string } | null }): string | undefined {
  const lastDue = followUpDueAt(plan, FOLLOW_UP_MONTHS[FOLLOW_UP_MONTHS.length - 1]!);
  return lastDue === undefined ? undefined : addMonths(lastDue, FOLLOW_UPS_LAPSE_MONTHS);
}
