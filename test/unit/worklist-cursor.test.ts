import { describe, expect, it } from 'vitest';
import { shardOf, SHARDS } from '../../lib/adapters/dynamodb/keys.ts';
import { BadWorklistCursor, decodeWorklistCursor, encodeWorklistCursor, firstPosition, mergeShards, type ShardPosition, type ShardRead } from '../../lib/adapters/dynamodb/worklist-cursor.ts';

/** Plan ids, each in a known shard. */
function idsIn(shard: number, count: number): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++) {
    const id = `pl_${String(n).padStart(12, '0')}`;
    if (shardOf(id) === shard) ids.push(id);
  }
  return ids;
}

interface Entry {
  at: string;
  planId: string;
}
const key = (e: Entry) => e;
const at = (day: number) => `2026-01-${String(day).padStart(2, '0')}T09:00:00.000Z`;

/** An index of entries per shard, read as DynamoDB would: after a position, at most `limit`. */
function read(index: Entry[][], positions: readonly ShardPosition[], limit: number): (ShardRead<Entry> | undefined)[] {
  return index.map((entries, shard) => {
    const p = positions[shard]!;
    if (p === 'end') return undefined;
    const from = p === 'start' ? 0 : entries.findIndex((e) => e.planId === p.planId) + 1;
    return { entries: entries.slice(from, from + limit), more: from + limit < entries.length };
  });
}

describe('worklist paging over sharded indexes', () => {
  it('gives every entry once, in index order, whatever the page size', () => {
    const index = Array.from({ length: SHARDS }, (_, shard) =>
      idsIn(shard, 3 + shard * 2).map((planId, i) => ({ at: at(1 + ((i * 7 + shard * 3) % 20)), planId })).sort((a, b) => a.at.localeCompare(b.at) || a.planId.localeCompare(b.planId)),
    );
    const all = index.flat().sort((a, b) => a.at.localeCompare(b.at) || a.planId.localeCompare(b.planId));
    for (const limit of [1, 2, 3, 5, 7, 100]) {
      const seen: Entry[] = [];
      let positions: ShardPosition[] = firstPosition('alert').shards;
      for (let pages = 0; pages < 100 && !positions.every((p) => p === 'end'); pages++) {
        const merged = mergeShards(read(index, positions, limit), positions, key, limit);
        expect(merged.taken.length).toBeLessThanOrEqual(limit);
        seen.push(...merged.taken);
        // Through the cursor, as the API hands it out.
        const cursor = encodeWorklistCursor('overdue', { phase: 'alert', shards: merged.positions });
        positions = merged.positions.every((p) => p === 'end') ? merged.positions : decodeWorklistCursor(cursor, 'overdue').shards;
      }
      expect(seen, `limit ${limit}`).toEqual(all);
    }
  });

  it('stops where a shard with more to read has given all it read', () => {
    const [a] = idsIn(0, 1);
    const [b] = idsIn(1, 1);
    const reads: ShardRead<Entry>[] = [
      { entries: [{ at: at(5), planId: a! }], more: false },
      { entries: [{ at: at(1), planId: b! }], more: true },
      { entries: [], more: false },
      { entries: [], more: false },
    ];
    const merged = mergeShards(reads, firstPosition('alert').shards, key, 10);
    // Shard 1's next entry may come before a's: a waits for the next page.
    expect(merged.taken.map((e) => e.planId)).toEqual([b]);
    expect(merged.positions).toEqual(['start', { at: at(1), planId: b }, 'end', 'end']);
  });

  it("refuses cursors it did not make, and another list's", () => {
    const inShard0 = idsIn(0, 1)[0]!;
    const work = encodeWorklistCursor('this-week', { phase: 'work', upTo: at(9), shards: [{ at: at(3), planId: inShard0 }, 'start', 'end', 'start'] });
    expect(decodeWorklistCursor(work, 'this-week')).toEqual({ phase: 'work', upTo: at(9), shards: [{ at: at(3), planId: inShard0 }, 'start', 'end', 'start'] });
    const overdue = encodeWorklistCursor('overdue', { phase: 'alert', shards: firstPosition('alert').shards });
    expect(decodeWorklistCursor(overdue, 'overdue').phase).toBe('alert');
    // The overdue list reads on to what fell due before now: its work phase, with the horizon it began with.
    expect(decodeWorklistCursor(encodeWorklistCursor('overdue', { phase: 'work', upTo: at(9), shards: firstPosition('work').shards }), 'overdue')).toMatchObject({ phase: 'work', upTo: at(9) });
    const refused: [string, 'overdue' | 'today' | 'this-week'][] = [
      ['not-base64-json', 'overdue'],
      [Buffer.from('[]').toString('base64url'), 'overdue'],
      // Another list's: this week's on today's (its horizon is further), the overdue list's on a due list.
      [work, 'today'],
      [overdue, 'this-week'],
      [encodeWorklistCursor('overdue', { phase: 'work', shards: firstPosition('work').shards }), 'overdue'],
      [encodeWorklistCursor('today', { phase: 'work', shards: firstPosition('work').shards }), 'today'],
      // A position past the horizon: DynamoDB would refuse the start key.
      [encodeWorklistCursor('today', { phase: 'work', upTo: at(2), shards: [{ at: at(3), planId: inShard0 }, 'start', 'start', 'start'] }), 'today'],
      [encodeWorklistCursor('overdue', { phase: 'alert', shards: ['end', 'end', 'end', 'end'] }), 'overdue'],
      [encodeWorklistCursor('overdue', { phase: 'alert', shards: [{ at: at(1), planId: idsIn(1, 1)[0]! }, 'start', 'start', 'start'] }), 'overdue'],
      [encodeWorklistCursor('overdue', { phase: 'alert', shards: [{ at: 'soon', planId: inShard0 }, 'start', 'start', 'start'] }), 'overdue'],
      [Buffer.from(JSON.stringify({ list: 'overdue', phase: 'alert', shards: ['start', 'start', 'start'] })).toString('base64url'), 'overdue'],
    ];
    for (const [cursor, list] of refused) expect(() => decodeWorklistCursor(cursor, list), `${cursor} on ${list}`).toThrow(BadWorklistCursor);
  });

  it("says whose a cursor of another list is; the escalations list takes the overdue list's escalated part only", () => {
    const alert = encodeWorklistCursor('overdue', { phase: 'alert', shards: firstPosition('alert').shards });
    const pastDue = encodeWorklistCursor('overdue', { phase: 'work', upTo: at(9), shards: firstPosition('work').shards });
    const week = encodeWorklistCursor('this-week', { phase: 'work', upTo: at(9), shards: firstPosition('work').shards });
    // The same plans in the same order: the escalations list and the overdue list's escalated part.
    expect(decodeWorklistCursor(alert, 'escalations').phase).toBe('alert');
    const refusal = (cursor: string, list: Parameters<typeof decodeWorklistCursor>[1]) => {
      try {
        decodeWorklistCursor(cursor, list);
      } catch (error) {
        if (error instanceof BadWorklistCursor) return error.message;
        throw error;
      }
      return 'taken';
    };
    expect(refusal(pastDue, 'escalations')).toBe(
      'belongs to another list, the worklist "Overdue and escalated" (GET /plans?due=overdue), past its escalated plans, not the escalations list (GET /escalations): a cursor pages on only the list that gave it; leave it out to start this list from the top',
    );
    expect(refusal(week, 'escalations')).toMatch(/^belongs to another list, the worklist "Due in the next 7 days" \(GET \/plans\?due=this-week\), not the escalations list/);
    expect(refusal(week, 'today')).toMatch(/^belongs to another list, the worklist "Due in the next 7 days" .*, not the worklist "Due today" \(GET \/plans\?due=today\)/);
    expect(refusal(alert, 'this-week')).toMatch(/^belongs to another list, the worklist "Overdue and escalated"/);
    // Not a cursor of any list: no list named.
    expect(refusal('not-base64-json', 'escalations')).toBe('is not a cursor this API returned for this list');
  });
});
