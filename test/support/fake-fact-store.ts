import type { PlanFacts } from '../../lib/domain/metrics/facts.ts';

/** The fact items and the marker, as FactStore keeps them in the table, counting what is asked of it. */
export class FakeFactStore {
  stored = new Map<string, PlanFacts>();
  token: string | undefined;
  puts = 0;
  loads = 0;
  markerReads = 0;
  gets = 0;
  async marker() {
    this.markerReads += 1;
    return { complete: true, ...(this.token === undefined ? {} : { snapshot: this.token }) };
  }
  async loadEach(take: (planId: string, facts: PlanFacts) => void) {
    this.loads += 1;
    for (const [planId, facts] of this.stored) take(planId, facts);
    return { loaded: this.stored.size, stale: 0, unreadable: [] };
  }
  async put(planId: string, facts: PlanFacts) {
    this.puts += 1;
    this.stored.set(planId, facts);
  }
  async getFactsOf(planIds: string[]) {
    this.gets += planIds.length;
    return new Map(
      planIds.flatMap((planId) => {
        const facts = this.stored.get(planId);
        return facts ? [[planId, { facts }] as const] : [];
      }),
    );
  }
  async markComplete() {}
  async nameSnapshot(token: string) {
    this.token = token;
    return true;
  }
  async forgetSnapshot() {
    this.token = undefined;
  }
}
