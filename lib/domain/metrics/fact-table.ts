import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES, type NeedDomain } from '../taxonomy.ts';
import type { ExitReasonFact, FollowUpAnswer, GapReasonFact, OfferFact, OfferOutcome, PlanFacts } from './facts.ts';

/**
 * Every plan's metrics facts held in columns: one typed array per field, a small-integer code (with a
 * dictionary per coded field) for referral source, local authority, need domain, provider, offer
 * outcome and reasons, and each variable-length list (needs, providers, offers, gaps, reviews, score
 * changes) as a segment of a shared values array. A hundred thousand plans take about 20 MB instead
 * of the ~140 MB they take as objects, and the garbage collector never walks them.
 *
 * A plan's row is rewritten in place when its facts change; a list that grows moves to the end of
 * its values array, and the arrays are compacted once more than half of them is dead. Arrays grow by
 * doubling (an outgrown array's memory given back at once: ensure). Rows are never removed (the facts of a plan stay, as the plans themselves do).
 *
 * Iterating the table gives the facts back as plain objects (equal to those put in); the figures are
 * computed from the columns directly (compute.ts).
 */

type Column = Float64Array | Int32Array | Uint16Array | Uint8Array;

/** A day or day-count column's "absent". Days are whole days since 1970, far inside Int32. */
export const NO_DAY = -0x80000000;

/**
 * `column` at least `needed` long (doubling), or the column itself when it is long enough. The values
 * move by ArrayBuffer transfer, which gives the old buffer's memory back at once (the old column is
 * left empty): a copy would stay allocated until a full garbage collection, and while 100,000 plans'
 * facts were read in, the columns' outgrown generations held ~50 MB outside the heap.
 */
function ensure<C extends Column>(column: C, needed: number): C {
  if (needed <= column.length) return column;
  let length = Math.max(16, column.length);
  while (length < needed) length *= 2;
  return new (column.constructor as new (buffer: ArrayBuffer) => C)((column.buffer as ArrayBuffer).transfer(length * column.BYTES_PER_ELEMENT));
}

/** The strings of one coded field, each with a small-integer code (its position), in the order first seen. */
export class Dictionary<T extends string = string> {
  readonly values: T[] = [];
  private readonly codes = new Map<string, number>();
  private readonly limit: number;

  constructor(limit: number, known: readonly T[] = []) {
    this.limit = limit;
    for (const value of known) this.code(value);
  }

  code(value: T): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      if (code >= this.limit) throw new RangeError(`metrics facts: more than ${this.limit} distinct values of one field`);
      this.values.push(value);
      this.codes.set(value, code);
    }
    return code;
  }

  value(code: number): T {
    return this.values[code] as T;
  }

  /** Take exactly these values, in this order, as the codes 0, 1, … (a snapshot's dictionary). */
  restore(values: readonly T[]): void {
    if (values.length > this.limit) throw new RangeError(`metrics facts: more than ${this.limit} distinct values of one field`);
    this.values.length = 0;
    this.codes.clear();
    for (const value of values) {
      if (typeof value !== 'string' || this.codes.has(value)) throw new Error('metrics facts snapshot: a dictionary repeats a value or holds a non-string');
      this.codes.set(value, this.values.length);
      this.values.push(value);
    }
  }
}

/**
 * Variable-length lists, one per row: row r's entries are positions start[r] .. start[r] + length[r]
 * of every column in `columns`.
 */
class Segments<C extends Record<string, Column>> {
  columns: C;
  start = new Int32Array(0);
  length = new Uint16Array(0);
  /** End of the used part of the columns. */
  end = 0;
  /** Positions before `end` no row uses any more. */
  dead = 0;

  constructor(columns: C) {
    this.columns = columns;
  }

  rowsUpTo(capacity: number): void {
    this.start = ensure(this.start, capacity);
    this.length = ensure(this.length, capacity);
  }

  /** Where to write row `row`'s `count` entries: its own place when they fit, else the end. */
  place(row: number, count: number, rows: number): number {
    if (count > 0xffff) throw new RangeError('metrics facts: a list of more than 65,535 entries');
    const had = this.length[row] as number;
    if (count <= had) {
      this.dead += had - count;
      this.length[row] = count;
      return this.start[row] as number;
    }
    this.dead += had;
    this.length[row] = 0;
    if (this.dead > this.end - this.dead) this.compact(rows);
    const at = this.end;
    this.grow(at + count);
    this.start[row] = at;
    this.length[row] = count;
    this.end = at + count;
    return at;
  }

  private grow(needed: number): void {
    const columns = this.columns as Record<string, Column>;
    for (const name of Object.keys(columns)) columns[name] = ensure(columns[name] as Column, needed);
  }

  /** Move every row's entries together, in row order, dropping the dead ones. */
  private compact(rows: number): void {
    const columns = this.columns as Record<string, Column>;
    const live = this.end - this.dead;
    for (const name of Object.keys(columns)) {
      const old = columns[name] as Column;
      const next = new (old.constructor as new (length: number) => Column)(Math.max(16, live * 2));
      let at = 0;
      for (let r = 0; r < rows; r += 1) {
        const n = this.length[r] as number;
        if (n === 0) continue;
        const from = this.start[r] as number;
        next.set(old.subarray(from, from + n) as ArrayLike<number>, at);
        at += n;
      }
      columns[name] = next;
      // Its memory back now rather than at the next full garbage collection (see ensure).
      (old.buffer as ArrayBuffer).transfer(0);
    }
    let at = 0;
    for (let r = 0; r < rows; r += 1) {
      const n = this.length[r] as number;
      this.start[r] = n === 0 ? 0 : at;
      at += n;
    }
    this.end = at;
    this.dead = 0;
  }
}

const DICTIONARY_NAMES = ['sources', 'localAuthorities', 'domains', 'providers', 'outcomes', 'exitReasons', 'gapReasons'] as const;
type DictionaryName = (typeof DICTIONARY_NAMES)[number];
const SEGMENT_NAMES = ['needs', 'supporting', 'offers', 'offerNeeds', 'gaps', 'reviews', 'scoreChanges'] as const;
type SegmentName = (typeof SEGMENT_NAMES)[number];

/** The description of a FactTable's bytes (FactTable.encode), checked by FactTable.decode. */
export interface FactTableLayout {
  rows: number;
  dictionaries: Record<DictionaryName, string[]>;
  segments: Record<SegmentName, { end: number; dead: number }>;
  /** Every array's name, type and byte length, in the order their bytes follow one another. */
  arrays: { name: string; type: string; bytes: number }[];
}

const OUTCOMES: readonly OfferOutcome[] = ['accepted', 'declined', 'expired', 'other'];
/** Follow-up answers by code; 0 is "not asked". */
const FOLLOW_UPS: readonly (FollowUpAnswer | undefined)[] = [undefined, 'yes', 'no', 'unknown'];
export const FOLLOW_UP_YES = 1;
export const FOLLOW_UP_NO = 2;
const followUpCode = (answer: FollowUpAnswer | undefined) => (answer === undefined ? 0 : FOLLOW_UPS.indexOf(answer));

const day = (value: number | undefined) => (value === undefined ? NO_DAY : value);
const amount = (value: number | undefined) => (value === undefined ? NaN : value);

export class FactTable implements Iterable<PlanFacts> {
  readonly sources = new Dictionary<PlanFacts['source']>(0x100, REFERRAL_SOURCES);
  readonly localAuthorities = new Dictionary<PlanFacts['localAuthority']>(0x100, LOCAL_AUTHORITIES);
  readonly domains = new Dictionary<NeedDomain>(0x100, NEED_DOMAINS);
  readonly providers = new Dictionary(0x10000);
  readonly outcomes = new Dictionary<OfferOutcome>(0x100, OUTCOMES);
  /** Exit reasons are stored as code + 1, 0 meaning none. */
  readonly exitReasons = new Dictionary<ExitReasonFact>(0xff);
  readonly gapReasons = new Dictionary<GapReasonFact>(0x100);

  /** One entry per row. Days are day numbers (NO_DAY: none); durations NaN when absent. */
  readonly rows = {
    version: new Float64Array(0),
    source: new Uint8Array(0),
    localAuthority: new Uint8Array(0),
    consented: new Uint8Array(0),
    referred: new Int32Array(0),
    assessed: new Int32Array(0),
    daysReferralToAssessment: new Float64Array(0),
    activated: new Int32Array(0),
    daysAssessmentToActive: new Float64Array(0),
    daysReferralToActive: new Float64Array(0),
    exited: new Int32Array(0),
    exitReason: new Uint8Array(0),
    followUp6: new Uint8Array(0),
    followUp12: new Uint8Array(0),
  };
  readonly needs = new Segments({ domain: new Uint8Array(0) });
  readonly supporting = new Segments({ provider: new Uint16Array(0) });
  /** Offers; the needs of a row's offers follow one another in `offerNeeds`, needCount each. */
  readonly offers = new Segments({ provider: new Uint16Array(0), day: new Int32Array(0), outcome: new Uint8Array(0), responseHours: new Float64Array(0), needCount: new Uint16Array(0) });
  readonly offerNeeds = new Segments({ domain: new Uint8Array(0) });
  readonly gaps = new Segments({ domain: new Uint8Array(0), reason: new Uint8Array(0), day: new Int32Array(0) });
  readonly reviews = new Segments({ day: new Int32Array(0), late: new Uint8Array(0) });
  readonly scoreChanges = new Segments({ domain: new Uint8Array(0), day: new Int32Array(0), change: new Float64Array(0) });

  private readonly rowOf = new Map<string, number>();
  private count = 0;
  private capacity = 0;

  /** A table of the given facts, in order (for facts that are not kept up to date: no keys). */
  static of(facts: Iterable<PlanFacts>): FactTable {
    const table = new FactTable();
    for (const f of facts) table.write(table.newRow(), f);
    return table;
  }

  /** Rows held: one per plan. */
  get size(): number {
    return this.count;
  }

  /** The plan version of the facts held for `key`, if any. */
  versionOf(key: string): number | undefined {
    const row = this.rowOf.get(key);
    return row === undefined ? undefined : (this.rows.version[row] as number);
  }

  /** Hold `facts` for `key`, replacing any held before in place. */
  set(key: string, facts: PlanFacts): void {
    let row = this.rowOf.get(key);
    if (row === undefined) {
      row = this.newRow();
      this.rowOf.set(key, row);
    }
    this.write(row, facts);
  }

  /** Hold `facts` for `key` unless facts of a later plan version are held already; whether they were taken. */
  update(key: string, facts: PlanFacts): boolean {
    const held = this.versionOf(key);
    if (held !== undefined && held > facts.version) return false;
    this.set(key, facts);
    return true;
  }

  get(key: string): PlanFacts | undefined {
    const row = this.rowOf.get(key);
    return row === undefined ? undefined : this.read(row);
  }

  /** Forget every row (the dictionaries stay). */
  clear(): void {
    this.rowOf.clear();
    this.count = 0;
    for (const [, segments] of this.namedSegments()) {
      segments.length.fill(0);
      segments.end = 0;
      segments.dead = 0;
    }
  }

  *[Symbol.iterator](): Iterator<PlanFacts> {
    for (let row = 0; row < this.count; row += 1) yield this.read(row);
  }

  private namedDictionaries(): [DictionaryName, Dictionary][] {
    return DICTIONARY_NAMES.map((name) => [name, this[name] as Dictionary]);
  }

  private namedSegments(): [SegmentName, Segments<Record<string, Column>>][] {
    return SEGMENT_NAMES.map((name) => [name, this[name] as Segments<Record<string, Column>>]);
  }

  /**
   * Every array of the table, in a fixed order, with how many of its entries are in use and a way to
   * put a restored one in its place: what encode writes and decode reads.
   */
  private arraySlots(): { name: string; array: Column; used: number; put: (array: Column) => void }[] {
    const slots: { name: string; array: Column; used: number; put: (array: Column) => void }[] = [];
    const rows = this.rows as Record<string, Column>;
    for (const name of Object.keys(rows)) slots.push({ name: `rows.${name}`, array: rows[name] as Column, used: this.count, put: (a) => (rows[name] = a) });
    for (const [segmentName, segments] of this.namedSegments()) {
      slots.push({ name: `${segmentName}.start`, array: segments.start, used: this.count, put: (a) => (segments.start = a as Int32Array<ArrayBuffer>) });
      slots.push({ name: `${segmentName}.length`, array: segments.length, used: this.count, put: (a) => (segments.length = a as Uint16Array<ArrayBuffer>) });
      const columns = segments.columns;
      for (const name of Object.keys(columns)) slots.push({ name: `${segmentName}.${name}`, array: columns[name] as Column, used: segments.end, put: (a) => (columns[name] = a) });
    }
    return slots;
  }

  /**
   * The table as bytes (a snapshot a restart can load instead of every stored fact item): a layout to
   * check them by, and the used part of every array followed by the row keys (UTF-8, one per line, in
   * row order). The arrays are in this machine's byte order.
   */
  encode(): { layout: FactTableLayout; chunks: Uint8Array[] } {
    const keys: string[] = new Array<string>(this.count).fill('');
    for (const [key, row] of this.rowOf) {
      if (key.includes('\n')) throw new RangeError('metrics facts: a row key holds a line break');
      keys[row] = key;
    }
    const keyBytes = new TextEncoder().encode(keys.join('\n'));
    const chunks: Uint8Array[] = [];
    const arrays: FactTableLayout['arrays'] = [];
    for (const slot of this.arraySlots()) {
      const bytes = new Uint8Array(slot.array.buffer, slot.array.byteOffset, slot.used * slot.array.BYTES_PER_ELEMENT);
      chunks.push(bytes);
      arrays.push({ name: slot.name, type: slot.array.constructor.name, bytes: bytes.byteLength });
    }
    chunks.push(keyBytes);
    arrays.push({ name: 'keys', type: 'utf8', bytes: keyBytes.byteLength });
    const dictionaries = Object.fromEntries(this.namedDictionaries().map(([name, d]) => [name, [...d.values]])) as FactTableLayout['dictionaries'];
    const segments = Object.fromEntries(this.namedSegments().map(([name, s]) => [name, { end: s.end, dead: s.dead }])) as FactTableLayout['segments'];
    return { layout: { rows: this.count, dictionaries, segments, arrays }, chunks };
  }

  /**
   * The table `encode` gave these bytes for. Throws (and builds nothing) unless every array is the one
   * this code expects, of the expected type and length, and every list lies inside its values array.
   */
  static decode(layout: FactTableLayout, bytes: Uint8Array): FactTable {
    const table = new FactTable();
    const rows = layout.rows;
    if (!Number.isSafeInteger(rows) || rows < 0) throw new Error('metrics facts snapshot: bad row count');
    for (const [name, dictionary] of table.namedDictionaries()) {
      const values = layout.dictionaries?.[name];
      if (!Array.isArray(values)) throw new Error(`metrics facts snapshot: no ${name} dictionary`);
      dictionary.restore(values as never);
    }
    for (const [name, segments] of table.namedSegments()) {
      const held = layout.segments?.[name];
      if (!held || !Number.isSafeInteger(held.end) || !Number.isSafeInteger(held.dead) || held.end < 0 || held.dead < 0 || held.dead > held.end) throw new Error(`metrics facts snapshot: bad ${name} segments`);
      segments.end = held.end;
      segments.dead = held.dead;
    }
    table.count = rows;
    table.capacity = rows;
    const slots = table.arraySlots();
    if (layout.arrays?.length !== slots.length + 1) throw new Error('metrics facts snapshot: not the arrays this table has');
    let at = 0;
    for (const [i, slot] of slots.entries()) {
      const held = layout.arrays[i] as FactTableLayout['arrays'][number];
      const length = held.bytes / slot.array.BYTES_PER_ELEMENT;
      if (held.name !== slot.name || held.type !== slot.array.constructor.name || length !== slot.used) throw new Error(`metrics facts snapshot: ${held.name} is not the ${slot.name} expected`);
      if (at + held.bytes > bytes.byteLength) throw new Error('metrics facts snapshot: shorter than its layout');
      const array = new (slot.array.constructor as new (length: number) => Column)(length);
      new Uint8Array(array.buffer).set(bytes.subarray(at, at + held.bytes));
      slot.put(array);
      at += held.bytes;
    }
    const keysHeld = layout.arrays.at(-1) as FactTableLayout['arrays'][number];
    if (keysHeld.name !== 'keys' || at + keysHeld.bytes !== bytes.byteLength) throw new Error('metrics facts snapshot: the row keys are not where the layout says');
    for (const [name, segments] of table.namedSegments()) {
      for (let row = 0; row < rows; row += 1) {
        if ((segments.start[row] as number) < 0 || (segments.start[row] as number) + (segments.length[row] as number) > segments.end) throw new Error(`metrics facts snapshot: a ${name} list lies outside its values`);
      }
    }
    const keys = rows === 0 ? [] : new TextDecoder().decode(bytes.subarray(at)).split('\n');
    if (keys.length !== rows) throw new Error('metrics facts snapshot: not one key per row');
    for (const [row, key] of keys.entries()) {
      if (key === '') continue;
      if (table.rowOf.has(key)) throw new Error('metrics facts snapshot: a key on two rows');
      table.rowOf.set(key, row);
    }
    return table;
  }

  private newRow(): number {
    const row = this.count;
    if (row === this.capacity) {
      this.capacity = Math.max(16, this.capacity * 2);
      const rows = this.rows as Record<string, Column>;
      for (const name of Object.keys(rows)) rows[name] = ensure(rows[name] as Column, this.capacity);
      for (const [, segments] of this.namedSegments()) segments.rowsUpTo(this.capacity);
    }
    this.count += 1;
    return row;
  }

  private write(row: number, f: PlanFacts): void {
    const r = this.rows;
    r.version[row] = f.version;
    r.source[row] = this.sources.code(f.source);
    r.localAuthority[row] = this.localAuthorities.code(f.localAuthority);
    r.consented[row] = f.consented ? 1 : 0;
    r.referred[row] = f.referred;
    r.assessed[row] = day(f.assessed);
    r.daysReferralToAssessment[row] = amount(f.daysReferralToAssessment);
    r.activated[row] = day(f.activated);
    r.daysAssessmentToActive[row] = amount(f.daysAssessmentToActive);
    r.daysReferralToActive[row] = amount(f.daysReferralToActive);
    r.exited[row] = day(f.exited);
    r.exitReason[row] = f.exitReason === undefined ? 0 : this.exitReasons.code(f.exitReason) + 1;
    r.followUp6[row] = followUpCode(f.followUp6);
    r.followUp12[row] = followUpCode(f.followUp12);
    const rows = this.count;

    let at = this.needs.place(row, f.needs.length, rows);
    for (const d of f.needs) this.needs.columns.domain[at++] = this.domains.code(d);
    at = this.supporting.place(row, f.providers.length, rows);
    for (const p of f.providers) this.supporting.columns.provider[at++] = this.providers.code(p);

    at = this.offers.place(row, f.offers.length, rows);
    let needsAt = this.offerNeeds.place(row, f.offers.reduce((sum, offer) => sum + offer.needs.length, 0), rows);
    const o = this.offers.columns;
    for (const offer of f.offers) {
      o.provider[at] = this.providers.code(offer.provider);
      o.day[at] = offer.day;
      o.outcome[at] = this.outcomes.code(offer.outcome);
      o.responseHours[at] = amount(offer.responseHours);
      o.needCount[at] = offer.needs.length;
      at += 1;
      for (const d of offer.needs) this.offerNeeds.columns.domain[needsAt++] = this.domains.code(d);
    }
    at = this.gaps.place(row, f.gaps.length, rows);
    const g = this.gaps.columns;
    for (const gap of f.gaps) {
      g.domain[at] = this.domains.code(gap.domain);
      g.reason[at] = this.gapReasons.code(gap.reason);
      g.day[at++] = gap.day;
    }
    at = this.reviews.place(row, f.reviews.length, rows);
    const v = this.reviews.columns;
    for (const review of f.reviews) {
      v.day[at] = review.day;
      v.late[at++] = review.late ? 1 : 0;
    }
    at = this.scoreChanges.place(row, f.scoreChanges.length, rows);
    const s = this.scoreChanges.columns;
    for (const change of f.scoreChanges) {
      s.domain[at] = this.domains.code(change.domain);
      s.day[at] = change.day;
      s.change[at++] = change.change;
    }
  }

  /** Row `row` as plain facts again. */
  private read(row: number): PlanFacts {
    const r = this.rows;
    const list = <T>(segments: { start: Int32Array; length: Uint16Array }, entry: (at: number) => T): T[] => {
      const from = segments.start[row] as number;
      const out: T[] = [];
      for (let at = from; at < from + (segments.length[row] as number); at += 1) out.push(entry(at));
      return out;
    };
    const domain = (code: number | undefined) => this.domains.value(code as number);
    const o = this.offers.columns;
    let needsAt = this.offerNeeds.start[row] as number;
    const offers = list(this.offers, (at): OfferFact => {
      const needs: NeedDomain[] = [];
      for (let n = 0; n < (o.needCount[at] as number); n += 1) needs.push(domain(this.offerNeeds.columns.domain[needsAt++]));
      const offer: OfferFact = { provider: this.providers.value(o.provider[at] as number), day: o.day[at] as number, needs, outcome: this.outcomes.value(o.outcome[at] as number) };
      const hours = o.responseHours[at] as number;
      if (!Number.isNaN(hours)) offer.responseHours = hours;
      return offer;
    });
    const { gaps: g, reviews: v, scoreChanges: s } = this;
    const f: PlanFacts = {
      version: r.version[row] as number,
      source: this.sources.value(r.source[row] as number),
      localAuthority: this.localAuthorities.value(r.localAuthority[row] as number),
      referred: r.referred[row] as number,
      consented: r.consented[row] === 1,
      needs: list(this.needs, (at) => domain(this.needs.columns.domain[at])),
      providers: list(this.supporting, (at) => this.providers.value(this.supporting.columns.provider[at] as number)),
      offers,
      gaps: list(g, (at) => ({ domain: domain(g.columns.domain[at]), reason: this.gapReasons.value(g.columns.reason[at] as number), day: g.columns.day[at] as number })),
      reviews: list(v, (at) => ({ day: v.columns.day[at] as number, late: v.columns.late[at] === 1 })),
      scoreChanges: list(s, (at) => ({ domain: domain(s.columns.domain[at]), day: s.columns.day[at] as number, change: s.columns.change[at] as number })),
    };
    const days = ['assessed', 'activated', 'exited'] as const;
    for (const name of days) if (r[name][row] !== NO_DAY) f[name] = r[name][row] as number;
    const amounts = ['daysReferralToAssessment', 'daysAssessmentToActive', 'daysReferralToActive'] as const;
    for (const name of amounts) if (!Number.isNaN(r[name][row])) f[name] = r[name][row] as number;
    const exitReason = r.exitReason[row] as number;
    if (exitReason !== 0) f.exitReason = this.exitReasons.value(exitReason - 1);
    const followUp6 = FOLLOW_UPS[r.followUp6[row] as number];
    const followUp12 = FOLLOW_UPS[r.followUp12[row] as number];
    if (followUp6) f.followUp6 = followUp6;
    if (followUp12) f.followUp12 = followUp12;
    return f;
  }
}
