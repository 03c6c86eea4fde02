/**
 * The timeline's lines for an escalation raised again and again (web/src/timeline-words.ts
 * timelineEntries): one line per run, with when it started, how often and how many times it was
 * repeated, and whether it is still open; every event kept in the run; a run ends at any other event;
 * two escalations repeating in turn are two lines, not one per event.
 */
import { describe, expect, it } from 'vitest';
import { timelineEntries, type TimelineEntry } from '../../web/src/timeline-words.ts';
import type { HistoryItem } from '../../web/src/types.ts';

let sequence = 0;
const at = (day: number) => new Date(Date.UTC(2026, 11, 3, 10) + day * 86_400_000).toISOString();
const item = (type: string, day: number, data: Record<string, unknown> = {}): HistoryItem => ({ id: `ev_${(sequence += 1)}`, sequence, type, time: at(day), data });
const escalated = (day: number, kind: string, repeated: boolean, ref?: string) => item('plan.escalated.v1', day, { kind, ...(ref ? { ref } : {}), stage: 'referred', repeated });
const weekly = (kind: string, from: number, count: number, ref?: string) => Array.from({ length: count }, (_, i) => escalated(from + 7 * i, kind, i > 0, ref));
const lines = (entries: TimelineEntry[]) => entries.map((e) => (e.detail ? `${e.title} — ${e.detail}` : e.title));

describe('repeated escalations in the timeline', () => {
  it('makes 361 weekly escalations one line, every date kept', () => {
    const items = [item('plan.referred.v1', -14, { source: 'probation', localAuthority: 'walsall', urgency: 'routine' }), ...weekly('assessment-overdue', 0, 361)];
    const entries = timelineEntries(items, (id) => id, [{ kind: 'assessment-overdue' }]);
    expect(entries).toHaveLength(2);
    expect(lines(entries)[1]).toBe('Escalated: assessment overdue — First 3 Dec 2026, repeated weekly 360 times to 27 Oct 2033; still open');
    expect(entries[1]!.kind === 'repeated' && entries[1]!.items.map((i) => i.id)).toEqual(items.slice(1).map((i) => i.id));
  });

  it('ends a run at any other event and says whether the escalation is still open', () => {
    const items = [...weekly('review-overdue', 0, 3, '2'), item('review.recorded.v1', 20, { reviewNumber: 2, outcome: 'continue', scores: {} }), escalated(27, 'review-overdue', true, '2'), escalated(34, 'review-overdue', true, '2')];
    expect(lines(timelineEntries(items, (id) => id, []))).toEqual([
      'Escalated: review overdue — First 3 Dec 2026, repeated weekly twice to 17 Dec 2026',
      'Review 2 recorded: continue',
      'Escalated: review overdue — Repeated weekly twice, 30 Dec 2026 to 6 Jan 2027; no longer open',
    ]);
  });

  it('keeps two escalations repeating in turn apart, each one line', () => {
    const items = [escalated(0, 'no-contact', false), escalated(1, 'coverage-gap', false, 'accommodation'), escalated(7, 'no-contact', true), escalated(8, 'coverage-gap', true, 'accommodation'), escalated(14, 'no-contact', true), escalated(17, 'coverage-gap', true, 'accommodation')];
    expect(lines(timelineEntries(items, (id) => id, [{ kind: 'no-contact' }, { kind: 'coverage-gap', ref: 'accommodation' }]))).toEqual([
      'Escalated: no contact — First 3 Dec 2026, repeated weekly twice to 17 Dec 2026; still open',
      'Escalated: no provider for accommodation — First 4 Dec 2026, repeated about weekly twice to 20 Dec 2026; still open',
    ]);
  });

  it('leaves a single escalation a line of its own, as before', () => {
    expect(lines(timelineEntries([escalated(0, 'no-contact', false)], (id) => id, [{ kind: 'no-contact' }]))).toEqual(['Escalated: no contact — Sent to the team lead']);
  });
});
