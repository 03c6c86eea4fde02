/**
 * What the coordinator's due lists hold at the edges of their windows, over real HTTP: "Due in the next
 * 7 days" (due=this-week) holds a plan whose next deadline falls on the seventh day, today counted, and
 * not one whose deadline falls on the eighth; "Due today" holds it on its day and not the day before.
 * The words (lib/domain/worklist.ts DUE_LISTS) are what the web app heads each list with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCalendarDays, londonDate, londonTime } from '../../lib/domain/calendar.ts';
import { DUE_LISTS } from '../../lib/domain/worklist.ts';
import { anotherParticipant, referral, startTestStack, type TestStack } from '../support/http.ts';

describe('the due lists at the edges of their windows', () => {
  let t: TestStack;
  let planId: string;
  /** The London day of the plan's one deadline (its assessment is due by 17:00 that day). */
  let dueDay: string;

  beforeAll(async () => {
    // Early on a Monday, GMT: every 09:00 London below is after the referral.
    t = await startTestStack({ webDistDir: false, start: '2026-03-02T07:00:00.000Z' });
    const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
    expect(created.status, created.text).toBe(201);
    planId = created.json.planId;
    const deadlines = created.json.deadlines as { command: string; dueAt: string }[];
    expect(deadlines.map((d) => d.command)).toEqual(['assessment-overdue']);
    dueDay = londonDate(deadlines[0]!.dueAt);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const listedOn = async (day: string, due: keyof typeof DUE_LISTS) => {
    t.clock.set(londonTime(day, 9));
    const res = await t.call('GET', `/plans?due=${due}&limit=100`, { token: t.coordinator });
    expect(res.status, res.text).toBe(200);
    return (res.json.items as { planId: string }[]).some((p) => p.planId === planId);
  };

  it(`"${DUE_LISTS['this-week'].label}" holds a deadline on the seventh day, today counted, and not one on the eighth`, async () => {
    // Asked on the day seven days before: its deadline is on the eighth day.
    expect(await listedOn(addCalendarDays(dueDay, -7), 'this-week')).toBe(false);
    // A day later it is on the seventh: listed.
    expect(await listedOn(addCalendarDays(dueDay, -6), 'this-week')).toBe(true);
  });

  it(`"${DUE_LISTS.today.label}" holds it on its day only, and it is not overdue until its deadline has passed`, async () => {
    expect(await listedOn(addCalendarDays(dueDay, -1), 'today')).toBe(false);
    expect(await listedOn(dueDay, 'today')).toBe(true);
    expect(await listedOn(dueDay, 'overdue')).toBe(false);
  });
});
