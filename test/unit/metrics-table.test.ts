/**
 * The metrics facts held in columns (FactTable) give exactly the figures the plain facts give: for
 * random fact sets and random sequences of updates (lists that grow, shrink and move, rows rewritten
 * in place, older plan versions refused), the report is byte for byte the one the object-based
 * computation it replaced (test/support/metrics-reference.ts) works out from the latest facts of
 * each plan, and reading the table back gives those facts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeMetrics } from '../../lib/domain/metrics/compute.ts';
import { dayNumber as D } from '../../lib/domain/metrics/dates.ts';
import { DIMENSIONS } from '../../lib/domain/metrics/definitions.ts';
import { FactTable } from '../../lib/domain/metrics/fact-table.ts';
import type { ExitReasonFact, GapReasonFact, PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { dayString } from '../../lib/domain/metrics/dates.ts';
import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES } from '../../lib/domain/taxonomy.ts';
import { referenceComputeMetrics } from '../support/metrics-reference.ts';

const LISTED_PROVIDERS = ['anawim', 'bcwa', 'changing-lives'];
/** One provider the directory does not list, so its group only appears when a plan in the period has it. */
const PROVIDERS = [...LISTED_PROVIDERS, 'unlisted-org'];
const EXIT_REASONS: ExitReasonFact[] = ['completed', 'transferred', 'disengaged', 'moved-away', 'custody', 'other', 'consent-withdrawn'];
const GAP_REASONS: GapReasonFact[] = ['no-service', 'no-coverage-in-area', 'no-capacity', 'not-eligible', 'all-candidates-declined-or-expired', 'no-consent-to-share', 'not-offered', 'outside-consent'];

const FIRST_DAY = D('2025-11-01');
const LAST_DAY = D('2027-02-28');
const day = fc.integer({ min: FIRST_DAY, max: LAST_DAY });
const amount = fc.oneof(fc.integer({ min: 0, max: 400 }), fc.double({ min: 0, max: 400, noNaN: true, noDefaultInfinity: true }));
const domain = fc.constantFrom(...NEED_DOMAINS);
const provider = fc.constantFrom(...PROVIDERS);
const followUp = fc.constantFrom('yes' as const, 'no' as const, 'unknown' as const);

const planFactsArb: fc.Arbitrary<PlanFacts> = fc.record(
  {
    version: fc.integer({ min: 1, max: 30 }),
    source: fc.constantFrom(...REFERRAL_SOURCES),
    localAuthority: fc.constantFrom(...LOCAL_AUTHORITIES),
    referred: day,
    consented: fc.boolean(),
    assessed: day,
    daysReferralToAssessment: amount,
    activated: day,
    daysAssessmentToActive: amount,
    daysReferralToActive: amount,
    exited: day,
    exitReason: fc.constantFrom(...EXIT_REASONS),
    needs: fc.uniqueArray(domain, { maxLength: 5 }),
    providers: fc.uniqueArray(provider, { maxLength: 3 }),
    offers: fc.array(
      fc.record(
        { provider, day, needs: fc.array(domain, { maxLength: 3 }), outcome: fc.constantFrom('accepted' as const, 'declined' as const, 'expired' as const, 'other' as const), responseHours: amount },
        { requiredKeys: ['provider', 'day', 'needs', 'outcome'] },
      ),
      { maxLength: 6 },
    ),
    gaps: fc.array(fc.record({ domain, reason: fc.constantFrom(...GAP_REASONS), day }), { maxLength: 4 }),
    reviews: fc.array(fc.record({ day, late: fc.boolean() }), { maxLength: 5 }),
    scoreChanges: fc.array(fc.record({ domain, day, change: fc.integer({ min: -9, max: 9 }) }), { maxLength: 4 }),
    followUp6: followUp,
    followUp12: followUp,
  },
  { requiredKeys: ['version', 'source', 'localAuthority', 'referred', 'consented', 'needs', 'providers', 'offers', 'gaps', 'reviews', 'scoreChanges'] },
);

/** A save: plan key and its facts now. */
const updates = fc.array(fc.tuple(fc.integer({ min: 0, max: 14 }), planFactsArb), { maxLength: 60 });

const queryArb = fc
  .record({ a: day, b: day, groupBy: fc.subarray([...DIMENSIONS]), threshold: fc.integer({ min: 0, max: 6 }) })
  .map(({ a, b, groupBy, threshold }) => ({ query: { from: dayString(Math.min(a, b)), to: dayString(Math.max(a, b)), groupBy }, threshold }));

const options = (threshold: number) => ({ suppressionThreshold: threshold, asOf: '2027-03-01T00:00:00.000Z', providers: LISTED_PROVIDERS });

/** Apply saves to a table and to a plain map, the map keeping each plan's latest facts by the same rule. */
function replay(saves: [number, PlanFacts][]): { table: FactTable; plain: Map<string, PlanFacts> } {
  const table = new FactTable();
  const plain = new Map<string, PlanFacts>();
  for (const [key, facts] of saves) {
    const id = `pl_${key}`;
    const held = plain.get(id);
    const kept = held === undefined || held.version <= facts.version;
    if (kept) plain.set(id, facts);
    expect(table.update(id, facts)).toBe(kept);
  }
  return { table, plain };
}

describe('FactTable', () => {
  it('property: after any sequence of saves it holds each plan’s latest facts and gives byte-identical figures to the plain facts', () => {
    fc.assert(
      fc.property(updates, fc.array(queryArb, { minLength: 1, maxLength: 3 }), (saves, queries) => {
        const { table, plain } = replay(saves);
        expect(table.size).toBe(plain.size);
        expect([...table]).toEqual([...plain.values()]);
        for (const [id, facts] of plain) expect(table.get(id)).toEqual(facts);
        for (const { query, threshold } of queries) {
          const expected = JSON.stringify(referenceComputeMetrics(plain.values(), query, options(threshold)));
          expect(JSON.stringify(computeMetrics(table, query, options(threshold)))).toBe(expected);
          expect(JSON.stringify(computeMetrics([...plain.values()], query, options(threshold)))).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps thousands of plans through growth, lists moving and compaction', () => {
    const sample = fc.sample(planFactsArb, { numRuns: 3000, seed: 42 });
    const table = new FactTable();
    const plain = new Map<string, PlanFacts>();
    // Every plan saved three times with the facts of another, so lists shrink in place and grow elsewhere.
    for (let round = 0; round < 3; round += 1) {
      sample.forEach((f, i) => {
        const facts = { ...(sample[(i * 7 + round * 13) % sample.length] as PlanFacts), version: round + 1 };
        table.set(`pl_${i}`, facts);
        plain.set(`pl_${i}`, facts);
      });
    }
    expect(table.size).toBe(3000);
    expect([...table]).toEqual([...plain.values()]);
    const query = { from: '2026-01-01', to: '2026-12-31', groupBy: [...DIMENSIONS] };
    expect(JSON.stringify(computeMetrics(table, query, options(5)))).toBe(JSON.stringify(referenceComputeMetrics(plain.values(), query, options(5))));
  });

  it('gives each query its own figures when a larger one came before (the buffers a query works in are kept for the next)', () => {
    const query = { from: '2026-01-01', to: '2026-12-31', groupBy: [...DIMENSIONS] };
    const big = fc.sample(planFactsArb, { numRuns: 2000, seed: 7 });
    const small = fc.sample(planFactsArb, { numRuns: 12, seed: 8 });
    const overall = { ...query, groupBy: [] };
    for (const [facts, q] of [[big, query], [small, query], [small, overall], [big, overall], [big, query]] as const) {
      const expected = JSON.stringify(referenceComputeMetrics(facts, q, options(2)));
      expect(JSON.stringify(computeMetrics(FactTable.of(facts), q, options(2)))).toBe(expected);
    }
  });

  it('property: encoded and decoded (a snapshot), it holds the same facts, gives the same figures and takes later saves alike', () => {
    const concat = (chunks: Uint8Array[]) => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out;
    };
    fc.assert(
      fc.property(updates, updates, queryArb, (saves, later, { query, threshold }) => {
        const { table, plain } = replay(saves);
        const { layout, chunks } = table.encode();
        // Through JSON, as the snapshot file carries the layout.
        const copy = FactTable.decode(JSON.parse(JSON.stringify(layout)), concat(chunks));
        expect(copy.size).toBe(plain.size);
        expect([...copy]).toEqual([...table]);
        for (const [id, facts] of plain) expect(copy.versionOf(id)).toBe(facts.version);
        expect(JSON.stringify(computeMetrics(copy, query, options(threshold)))).toBe(JSON.stringify(computeMetrics(table, query, options(threshold))));
        for (const [key, facts] of later) expect(copy.update(`pl_${key}`, facts)).toBe(table.update(`pl_${key}`, facts));
        expect([...copy]).toEqual([...table]);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to decode bytes that do not match their layout, building nothing', () => {
    const sample = fc.sample(planFactsArb, { numRuns: 20, seed: 7 });
    const table = new FactTable();
    sample.forEach((f, i) => table.set(`pl_${i}`, f));
    const { layout, chunks } = table.encode();
    const bytes = Buffer.concat(chunks);
    const clone = () => JSON.parse(JSON.stringify(layout)) as typeof layout;
    expect(() => FactTable.decode(layout, bytes.subarray(0, bytes.byteLength - 1))).toThrow(/row keys|shorter/);
    const renamed = clone();
    (renamed.arrays[0] as { name: string }).name = 'rows.somethingElse';
    expect(() => FactTable.decode(renamed, bytes)).toThrow(/not the rows.version expected/);
    const retyped = clone();
    (retyped.arrays[0] as { type: string }).type = 'Float32Array';
    expect(() => FactTable.decode(retyped, bytes)).toThrow(/expected/);
    const fewerRows = clone();
    fewerRows.rows -= 1;
    expect(() => FactTable.decode(fewerRows, bytes)).toThrow(/expected/);
    const shortSegments = clone();
    shortSegments.segments.offers.end = 0;
    expect(() => FactTable.decode(shortSegments, bytes)).toThrow();
    const noDictionary = clone() as unknown as { dictionaries: Record<string, unknown> };
    delete noDictionary.dictionaries.domains;
    expect(() => FactTable.decode(noDictionary as unknown as typeof layout, bytes)).toThrow(/no domains dictionary/);
  });

  it('forgets every row on clear', () => {
    const table = new FactTable();
    const [facts] = fc.sample(planFactsArb, { numRuns: 1, seed: 1 });
    table.set('pl_a', facts as PlanFacts);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get('pl_a')).toBeUndefined();
    expect([...table]).toEqual([]);
  });
});
