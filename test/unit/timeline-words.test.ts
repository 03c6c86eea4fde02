/**
 * The plan timeline's lines for consent events and an allocation's end (web/src/timeline-words.ts):
 * which providers a consent covers, by kind and count, read the same for a recorded consent as for a
 * changed one; an older event without them reads as before; a provider's name takes no possessive;
 * every event type has words (a corrected session read 'contact.corrected.v1').
 */
import { describe as group, expect, it } from 'vitest';
import { describe } from '../../web/src/timeline-words.ts';
import type { HistoryItem } from '../../web/src/types.ts';
import { EVENT_TYPES } from '../../lib/domain/events.ts';

const item = (type: string, data: Record<string, unknown>): HistoryItem => ({ id: 'ev_1', sequence: 1, type, time: '2026-11-28T10:00:00.000Z', data });
const NAMES: Record<string, string> = { 'changing-lives': 'Changing Lives' };
const name = (id: string) => NAMES[id] ?? id;

group('the timeline in words', () => {
  it('says which providers a recorded consent covers, as a changed one does', () => {
    const recorded = item('plan.consent-recorded.v1', { shareWithProviders: true, dataCategories: ['needs', 'risks'], method: 'written', providersKind: 'all-except', providersNamed: 1 });
    expect(describe(recorded, name)).toEqual({ title: 'Consent recorded', detail: 'Written; providers may know: needs and risks; every provider except 1 provider she named' });
    const changed = item('plan.consent-changed.v1', { shareWithProviders: true, dataCategories: ['needs'], method: 'verbal', providersKind: 'only', providersNamed: 2, reconfirmed: false });
    expect(describe(changed, name)).toEqual({ title: 'Consent changed', detail: 'Verbal; providers may know: needs; only 2 providers she named' });
  });

  it('reads a consent recorded before events said which providers as it did', () => {
    const older = item('plan.consent-recorded.v1', { shareWithProviders: true, dataCategories: ['needs', 'risks', 'adjustments'], method: 'written' });
    expect(describe(older, name).detail).toBe('Written; providers may know: needs, risks and adjustments');
    expect(describe(item('plan.consent-recorded.v1', { shareWithProviders: false, dataCategories: [], method: 'verbal' }), name).detail).toBe('Verbal; nothing shared with providers');
  });

  it('says which categories a provider was told to delete when her consent narrowed them', () => {
    const narrowed = { ...item('plan.consent-narrowed.v1', { allocationId: 'al_1', withdrawnCategories: ['contact-details', 'risks'], instruction: 'purge-withdrawn-categories' }), providerId: 'changing-lives' };
    expect(describe(narrowed, name)).toEqual({ title: 'Changing Lives told to delete some of what it holds', detail: 'Her consent no longer covers: contact details and risks' });
  });

  it('names the provider whose allocation ended without a possessive', () => {
    expect(describe(item('allocation.ended.v1', { providerId: 'changing-lives', outcome: 'completed', endedBy: 'provider' }), name).title).toBe('Allocation with Changing Lives ended');
  });

  it("has words for every event a plan's history can hold, not its type code", () => {
    expect(EVENT_TYPES.filter((type) => describe(item(type, {}), name).title === type)).toEqual([]);
  });

  it("says a provider's corrected or withdrawn session as it was and as it is, with the reason", () => {
    const corrected = { providerId: 'changing-lives', session: 2, previous: { date: '2026-12-01', kind: 'missed' }, date: '2026-12-02', kind: 'attended', withdrawn: false, reason: 'wrong-date' };
    expect(describe(item('contact.corrected.v1', corrected), name)).toEqual({ title: 'Session 2 corrected', detail: 'Changing Lives: was 1 Dec 2026, missed, now 2 Dec 2026, attended; wrong date' });
    const withdrawn = { ...corrected, session: 1, date: '2026-12-01', kind: 'missed', withdrawn: true, reason: 'recorded-twice' };
    expect(describe(item('contact.corrected.v1', withdrawn), name)).toEqual({ title: 'Session 1 withdrawn', detail: 'Changing Lives: 1 Dec 2026, missed; recorded twice. It counts nowhere' });
  });
});
