import * as z from 'zod';

/** How long each wait may last. Every non-terminal stage has at least one of these. */
export const DeadlinePolicy = z.object({
  assessmentWithinWorkingDays: z.number().int().min(1).max(60).default(10),
  offerResponseWorkingDays: z.number().int().min(1).max(20).default(2),
  activationWithinWorkingDays: z.number().int().min(1).max(60).default(10),
  reviewEveryDays: z.number().int().min(7).max(91).default(28),
  courtReviewEveryDays: z.number().int().min(7).max(91).default(14),
  reviewReminderDaysBefore: z.number().int().min(0).max(14).default(3),
  reviewGraceDays: z.number().int().min(0).max(28).default(5),
  noContactDays: z.number().int().min(7).max(120).default(28),
  followUpReminderRepeatDays: z.number().int().min(1).max(60).default(14),
});
export type DeadlinePolicy = z.infer<typeof DeadlinePolicy>;
export const DEFAULT_POLICY: DeadlinePolicy = DeadlinePolicy.parse({});
