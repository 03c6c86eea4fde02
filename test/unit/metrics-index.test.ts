/**
 * The in-memory metrics projection: loaded once, kept fresh by every plan save, never moved back to an
 * older plan version, and rebuilt from the plans when the stored facts are missing or out of date.
 */
import { describe, expect, it } from 'vitest';
import { planFacts, type PlanFacts } from '../../lib/domain/metrics/facts.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { FactStore } from '../../lib/metrics/fact-store.ts';
import { factsWriter, MetricsIndex, StoredFactsSource } from '../../lib/metrics/index.ts';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { planInStage } from '../support/domain-fixtures.ts';

class FakeStore {
  complete = true;
  stale = 0;
  stored = new Map<string, PlanFacts>();
  puts: string[] = [];
  loads = 0;
  async isComplete() {
    return this.complete;
  }
  async marker() {
    return { complete: this.complete };
  }
  async loadEach(take: (planId: string, facts: PlanFacts) => void) {
    this.loads += 1;
    for (const [planId, facts] of this.stored) take(planId, facts);
    return { loaded: this.stored.size, stale: this.stale, unreadable: [] };
  }
  async put(planId: string, facts: PlanFacts) {
    this.puts.push(`${planId}@${facts.version}`);
    this.stored.set(planId, facts);
  }
  async putMany(entries: [string, PlanFacts][]) {
    for (const [id, f] of entries) this.stored.set(id, f);
  }
  async markComplete() {
    this.complete = true;
  }
}

const referred = () => planInStage('referred').plan as Plan;
const active = () => planInStage('active').plan as Plan;

describe('MetricsIndex', () => {
  it('loads the stored facts once and serves them with the providers', async () => {
    const store = new FakeStore();
    store.stored.set('pl_a000000000', planFacts(referred()));
    const index = new MetricsIndex({ store: store as unknown as FactStore, providers: ['anawim'] });
    const [a, b] = await Promise.all([index.snapshot(), index.snapshot()]);
    expect(store.loads).toBe(1);
    expect([...a.facts]).toHaveLength(1);
    expect(b.providers).toEqual(['anawim']);
  });

  it('takes every saved plan at once, in memory and in the store, and never goes back to an older version', async () => {
    const store = new FakeStore();
    const index = new MetricsIndex({ store: store as unknown as FactStore });
    await index.start();
    const later = active();
    const earlier = referred();
    await index.onPlanSaved(later);
    await index.onPlanSaved({ ...earlier, planId: later.planId });
    const [only] = [...(await index.snapshot()).facts];
    expect(only?.version).toBe(later.version);
    expect(only?.activated).toBeDefined();
    expect(index.size).toBe(1);
    expect(store.puts).toEqual([`${later.planId}@${later.version}`, `${later.planId}@${earlier.version}`]); // the store keeps its own guard
  });

  it('rebuilds from the plans, stage by stage, when the stored facts are incomplete or of an older schema', async () => {
    for (const setup of [(s: FakeStore) => (s.complete = false), (s: FakeStore) => (s.stale = 2)]) {
      const store = new FakeStore();
      setup(store);
      const plans = [active(), { ...referred(), planId: 'pl_b000000000' }];
      const pages: string[] = [];
      const repo = {
        async listByStage(stage: string) {
          pages.push(stage);
          return { items: plans.filter((p) => p.stage === stage) };
        },
      };
      const index = new MetricsIndex({ store: store as unknown as FactStore, plans: repo as unknown as PlanRepository });
      expect(await index.start()).toEqual({ loaded: 2, from: 'plans' });
      expect(pages).toEqual(['referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn']);
      expect(store.complete).toBe(true);
      expect(store.stored.size).toBe(2);
    }
  });

  it('a store failure on save fails the hook, so the outbox stays for the sweeper to redeliver', async () => {
    const store = new FakeStore();
    store.put = async () => {
      throw new Error('throttled');
    };
    const index = new MetricsIndex({ store: store as unknown as FactStore });
    await expect(index.onPlanSaved(referred())).rejects.toThrow('throttled');
    await expect(factsWriter(store as unknown as FactStore)(referred())).rejects.toThrow('throttled');
  });
});

describe('StoredFactsSource (a Lambda container)', () => {
  it('reads every fact on first use, then again only once they are older than the maximum age', async () => {
    const store = new FakeStore();
    store.stored.set('pl_a000000000', planFacts(referred()));
    let now = 1_000;
    const source = new StoredFactsSource(store as unknown as FactStore, ['bcwa'], { maxAgeMs: 30_000, now: () => now });
    await source.snapshot();
    now += 29_000;
    await source.snapshot();
    expect(store.loads).toBe(1);
    store.stored.set('pl_b000000000', planFacts(active()));
    now += 2_000;
    expect([...(await source.snapshot()).facts]).toHaveLength(2);
    expect(store.loads).toBe(2);
  });
});
