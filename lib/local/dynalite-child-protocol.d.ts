import type { Server } from 'node:http';

/** Tables are usable at once (dynalite's defaults keep them CREATING for half a second). */
export declare const DYNALITE_TIMINGS: { readonly createTableMs: 0; readonly deleteTableMs: 0; readonly updateTableMs: 0 };

export interface DynaliteChildOptions {
  /** LevelDB directory; absent: in memory. */
  path?: string;
}

/** From the child: its port once dynalite listens and LevelDB is open, or why it could not (`in-use`: another process holds the directory); `closed` once LevelDB is closed. */
export type ChildMessage = { type: 'listening'; port: number } | { type: 'failed'; message: string; reason?: 'in-use' } | { type: 'closed' };
/** From the stack. */
export type ParentMessage = { type: 'close' };

/** Stop accepting connections, let the requests in flight finish (up to `graceMs`), then close LevelDB. */
export declare function closeDynalite(server: Server, graceMs?: number): Promise<void>;

/** Options added to dynalite's LevelDB open (bounding the table files LevelDB keeps mapped). */
export declare const LEVELDB_OPEN_OPTIONS: { readonly maxOpenFiles: number };

/** Let dynalite close the LevelDB iterator of each Query and Scan it serves (it calls `return()`, which abstract-level 3's iterators lack). */
export declare function closeIteratorsWhenDynaliteReturnsThem(): void;
