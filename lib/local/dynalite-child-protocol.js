/* global setTimeout */
import { createRequire } from 'node:module';
/**
 * What the stack (lib/local/dynalite-server.ts) and the dynalite process it forks
 * (lib/local/dynalite-child.js) share; types in dynalite-child-protocol.d.ts.
 *
 * Plain JavaScript, like the child, so that the child process loads no TypeScript: Node's type stripping
 * costs about 17 MB of resident memory per process, and the child's memory counts in the stack's total.
 */

/** Tables are usable at once (dynalite's defaults keep them CREATING for half a second). */
export const DYNALITE_TIMINGS = Object.freeze({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

/**
 * LevelDB reads its table files through mmap, and every table it holds open stays mapped; the pages it
 * touched count in the process's resident memory until the table is closed. With LevelDB's default of
 * 1000 open files a store of a few hundred MB could become resident in full while it compacts after a
 * bulk load (the bench once saw 775 MB of mapped table files at 100,000 plans, and 150 MB typically).
 * LevelDB keeps max_open_files - 10 tables open (and raises anything under 74 to 74), so 74 bounds the
 * mapped tables to 64 × 2 MB. Measured: README, Benchmarks.
 */
export const LEVELDB_OPEN_OPTIONS = Object.freeze({ maxOpenFiles: 74 });

/**
 * dynalite 4 ends the LevelDB iterator behind every Query and Scan (and its table listings) by calling
 * `iterator.return()`, the async-iterator protocol's method, when its stream is destroyed; abstract-level
 * 3's iterators have no such method (theirs is close()), so dynalite skipped the call and every iterator
 * stayed open, held in the database's list of open resources, until the store closed. Each open
 * LevelDB iterator pins the blocks it read, its version's table files (kept mapped even once the
 * table cache has let them go, and on disk after a compaction made them obsolete) and its memtable.
 * Reading every fact item at 100,000 plans (400 Query pages) left 400 open and took dynalite's process
 * from 70 to ~200 MB; 2,000 small Query pages took it 107 MB up (README, Benchmarks). Giving the
 * iterators `return` (closing them) lets dynalite close each one as it meant to.
 *
 * Patched on the classes of the abstract-level copies dynalite's LevelDB (classic-level, on disk) and
 * in-memory store (memory-level) are built on; idempotent.
 */
export function closeIteratorsWhenDynaliteReturnsThem() {
  const fromDynalite = createRequire(import.meta.resolve('dynalite'));
  const backends = [createRequire(fromDynalite.resolve('level')).resolve('classic-level'), fromDynalite.resolve('memory-level')];
  for (const backend of backends) {
    const { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } = createRequire(backend)('abstract-level');
    for (const Iterator of [AbstractIterator, AbstractKeyIterator, AbstractValueIterator]) {
      if (typeof Iterator.prototype.return === 'function') continue;
      Object.defineProperty(Iterator.prototype, 'return', {
        /** @this {{ close(): Promise<void> }} */
        value: function () {
          return this.close();
        },
        writable: true,
        configurable: true,
      });
    }
  }
}

/**
 * Stop accepting connections, let the requests in flight finish (up to `graceMs`), then close LevelDB
 * (dynalite's server.close does that once the last connection is gone).
 * @param {import('node:http').Server} server
 * @param {number} [graceMs]
 * @returns {Promise<void>}
 */
export function closeDynalite(server, graceMs = 2_000) {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Idle keep-alive connections would hold the close forever; busy ones get `graceMs` to answer.
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
  });
}
