import { PlanId } from '../../domain/schemas.ts';
import { STAGES } from '../../domain/vocabulary.ts';
import { DUE_LISTS } from '../../domain/worklist.ts';
import { ALL_SHARDS, shardOf, SHARDS } from './keys.ts';

/**
 * Paging the due and overdue worklists. They are read from two sharded, keys-only indexes: byAlert
 * (plans with an open escalation, by when the oldest was raised) and byWork (the next thing due on a
 * plan, by when). A page is a merge of every shard's entries in index order, and the cursor says,
 * for each shard, the last entry given (or that the shard is done): a page reads at most `limit`
 * entries a shard and fetches at most `limit` plans, and a plan that stays where it is in the index
 * is given exactly once however the pages are fetched. The alerted phase comes first; every due
 * list, overdue too (what fell due before now), then goes on to the work phase (plans already given
 * as alerted are left out there); the escalations list is the alerted phase alone.
 */
export type WorklistPhase = 'alert' | 'work';

/** The lists read this way: a cursor belongs to one (the escalations list is the overdue one). */
export type WorklistName = 'overdue' | 'today' | 'this-week';

/**
 * What a cursor is checked against: a due list, or the escalations list, which is the overdue list's
 * alerted phase alone. An overdue cursor of that phase is a place among the same plans in the same
 * order, so either list takes it; one of the work phase is past the escalations list's end.
 */
export type CursorList = WorklistName | 'escalations';

const WORKLIST_NAMES: readonly string[] = ['overdue', 'today', 'this-week'] satisfies WorklistName[];

/**
 * A due list may be read with a stage filter (GET /plans?due=…&stage=…). A page's positions are past
 * every entry it read, the plans the filter left out too, so a cursor of one filter read with another
 * (or none) would skip those plans: the cursor carries the stage it was given for, and is taken only
 * with the same one. No stage is a filter too (the whole list).
 */
export type WorklistStage = string | undefined;

/** A list as a person finds it: its heading (lib/domain/worklist.ts) and where it is read. */
const listInWords = (list: CursorList) => (list === 'escalations' ? 'the escalations list (GET /escalations)' : `the worklist "${DUE_LISTS[list].label}" (GET /plans?due=${list})`);

const filterInWords = (list: WorklistName, stage: WorklistStage) => `GET /plans?due=${list}${stage ? `&stage=${stage}` : ''} (${stage ? `only plans ${stage}` : 'every stage'})`;

/** Where a shard's reading stands: from its start, after an entry, or done. */
export type ShardPosition = 'start' | 'end' | { at: string; planId: string };

export interface WorklistPosition {
  phase: WorklistPhase;
  /**
   * The work phase's horizon, fixed when the phase began: the list goes on as it was asked for
   * (a page read after midnight does not widen it), and every position is inside it, as DynamoDB
   * requires of a query's start key.
   */
  upTo?: string;
  shards: ShardPosition[];
}

export class BadWorklistCursor extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadWorklistCursor';
  }
}

export const firstPosition = (phase: WorklistPhase, upTo?: string): WorklistPosition => ({ phase, ...(upTo ? { upTo } : {}), shards: ALL_SHARDS.map(() => 'start') });

export const isPhaseDone = (position: WorklistPosition) => position.shards.every((s) => s === 'end');

export function encodeWorklistCursor(list: WorklistName, position: WorklistPosition, stage?: WorklistStage): string {
  const shards = position.shards.map((s) => (typeof s === 'string' ? s : [s.at, s.planId]));
  return Buffer.from(JSON.stringify({ list, ...(stage ? { stage } : {}), phase: position.phase, ...(position.upTo ? { upTo: position.upTo } : {}), shards })).toString('base64url');
}

/** An index sort key: a time (a deadline or a review's due date may be a bare day). */
const INSTANT = /^\d{4}-\d{2}-\d{2}[0-9T:.Z+-]{0,24}$/;

/**
 * The position a cursor this API returned for `list` stands for. Another list's cursor is refused,
 * saying whose it is: read on this list from it, it would start at a place in another list's order
 * (or, on the escalations list, past its end: an empty page, as if there were no more). So is one of
 * the same list given for another stage filter (`stage`; the escalations list has none), saying whose.
 */
export function decodeWorklistCursor(cursor: string, list: CursorList, stage?: WorklistStage): WorklistPosition {
  const refuse = () => new BadWorklistCursor('is not a cursor this API returned for this list');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  const { list: of, stage: filteredBy, phase, upTo, shards } = (typeof value === 'object' && value !== null ? value : {}) as { list?: unknown; stage?: unknown; phase?: unknown; upTo?: unknown; shards?: unknown };
  if (typeof of !== 'string' || !WORKLIST_NAMES.includes(of) || !(phase === 'alert' || phase === 'work')) throw refuse();
  if (filteredBy !== undefined && !(typeof filteredBy === 'string' && filteredBy !== 'none' && (STAGES as readonly string[]).includes(filteredBy))) throw refuse();
  const work = phase === 'work';
  if (work ? typeof upTo !== 'string' || !INSTANT.test(upTo) : upTo !== undefined) throw refuse();
  if (!Array.isArray(shards) || shards.length !== SHARDS) throw refuse();
  const positions = shards.map((s: unknown, shard): ShardPosition => {
    if (s === 'start' || s === 'end') return s;
    // An entry of another shard would make DynamoDB refuse the start key, or read the wrong partition.
    if (Array.isArray(s) && s.length === 2 && typeof s[0] === 'string' && INSTANT.test(s[0]) && typeof s[1] === 'string' && PlanId.safeParse(s[1]).success && shardOf(s[1]) === shard)
      if (!work || s[0] <= (upTo as string)) return { at: s[0], planId: s[1] };
    throw refuse();
  });
  if (positions.every((p) => p === 'end')) throw refuse(); // a finished list returns no cursor
  const ours = list === 'escalations' ? of === 'overdue' && phase === 'alert' : of === list;
  if (!ours) {
    const whose = `${listInWords(of as WorklistName)}${list === 'escalations' && of === 'overdue' ? ', past its escalated plans' : ''}`;
    throw new BadWorklistCursor(`belongs to another list, ${whose}, not ${listInWords(list)}: a cursor pages on only the list that gave it; leave it out to start this list from the top`);
  }
  if (filteredBy !== stage) {
    const asked = list === 'escalations' ? listInWords(list) : filterInWords(list, stage);
    throw new BadWorklistCursor(
      `belongs to another filter, ${filterInWords(of as WorklistName, filteredBy as WorklistStage)}, not ${asked}: read with another stage it would skip plans; send it with the stage it was given for, or leave it out to start from the top`,
    );
  }
  return { phase, ...(work ? { upTo: upTo as string } : {}), shards: positions };
}

/** One shard's entries as read after its position: `more` when the index holds further entries. */
export interface ShardRead<E> {
  entries: E[];
  more: boolean;
}

/**
 * Merge the shards' reads by `at` (ties between shards by plan id), taking at most `limit` entries and
 * stopping where a shard with more to read has given all it read (its next entry is not known).
 * Returns the entries taken, in order, and each shard's new position. Within a shard the entries are
 * taken in the order DynamoDB gave them, which for equal `at` is its own (not the plan id's: dynalite
 * orders such ties by a hash of the table key); as each shard reads on after its own last entry, a tie
 * is never skipped or repeated whatever that order.
 */
export function mergeShards<E>(
  reads: readonly (ShardRead<E> | undefined)[],
  positions: readonly ShardPosition[],
  keyOf: (entry: E) => { at: string; planId: string },
  limit: number,
): { taken: E[]; positions: ShardPosition[] } {
  const next = [...positions];
  const used = reads.map(() => 0);
  const taken: E[] = [];
  while (taken.length < limit) {
    let best = -1;
    let stalled = false;
    reads.forEach((read, shard) => {
      if (!read || next[shard] === 'end') return;
      const head = read.entries[used[shard]!];
      if (!head) {
        if (read.more) stalled = true;
        return;
      }
      if (best < 0) best = shard;
      else {
        const a = keyOf(head);
        const b = keyOf(reads[best]!.entries[used[best]!]!);
        if (a.at < b.at || (a.at === b.at && a.planId < b.planId)) best = shard;
      }
    });
    if (stalled || best < 0) break;
    const entry = reads[best]!.entries[used[best]!]!;
    used[best]! += 1;
    taken.push(entry);
    next[best] = keyOf(entry);
  }
  reads.forEach((read, shard) => {
    if (read && next[shard] !== 'end' && used[shard] === read.entries.length && !read.more) next[shard] = 'end';
  });
  return { taken, positions: next };
}
