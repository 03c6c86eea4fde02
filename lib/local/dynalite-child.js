/* global process, console */
/**
 * dynalite in a process of its own, forked by `startLocalStore` (lib/local/dynalite-server.ts) so that
 * its request handling and LevelDB work run on the second core instead of the stack's thread. Plain
 * JavaScript: see dynalite-child-protocol.js.
 *
 * Protocol over the IPC channel: the parent passes the options (DynaliteChildOptions) as argv[2] (JSON);
 * this process answers `{ type: 'listening', port }` once dynalite listens on 127.0.0.1, or
 * `{ type: 'failed', message }`. `{ type: 'close' }` from the parent closes dynalite (and with it
 * LevelDB) and answers `{ type: 'closed' }` before exiting.
 *
 * It never outlives the stack: when the IPC channel goes (the parent exited, crashed or was killed with
 * SIGKILL) it closes LevelDB and exits. SIGINT is ignored: Ctrl-C reaches the whole process group, and
 * the parent first lets the requests in flight finish, then closes this store.
 */
import { createRequire } from 'node:module';
import dynalite from 'dynalite';
import { closeDynalite, closeIteratorsWhenDynaliteReturnsThem, DYNALITE_TIMINGS, LEVELDB_OPEN_OPTIONS } from './dynalite-child-protocol.js';

closeIteratorsWhenDynaliteReturnsThem();

/**
 * dynalite opens LevelDB with its defaults and takes no options for it, so its ClassicLevel (found the
 * way dynalite finds it: dynalite → level → classic-level) opens with ours added (see LEVELDB_OPEN_OPTIONS).
 */
const levelRequire = createRequire(createRequire(import.meta.resolve('dynalite')).resolve('level'));
const { ClassicLevel } = levelRequire('classic-level');
const openLevelDb = ClassicLevel.prototype._open;
/** LevelDB's open, once dynalite has begun it (a store on disk only): `listening` waits for it. */
/** @type {Promise<unknown> | undefined} */
let levelDbOpened;
ClassicLevel.prototype._open = function (/** @type {Record<string, unknown>} */ options) {
  levelDbOpened = openLevelDb.call(this, { ...options, ...LEVELDB_OPEN_OPTIONS });
  return levelDbOpened;
};

/**
 * LevelDB reads answered on this thread. classic-level's get hands every read to libuv's thread pool and
 * back (measured: 10-38 µs of CPU per read, against 0.7-1 µs for the same read through getSync; 20,000
 * serial reads of cached 400-byte values), and dynalite reads at least twice per request (the table's
 * description, then the item; a write with indexes more). The reads come from LevelDB's block cache or
 * mapped table files, and this process serves nothing but dynalite, so a read waiting here holds back
 * only other dynalite requests.
 */
ClassicLevel.prototype._get = function (/** @type {unknown} */ key, /** @type {unknown} */ getOptions) {
  try {
    return Promise.resolve(this._getSync(key, getOptions));
  } catch (error) {
    return Promise.reject(error);
  }
};

/** @type {import('./dynalite-child-protocol.js').DynaliteChildOptions} */
const options = JSON.parse(process.argv[2] ?? '{}');
const server = dynalite({ ...(options.path ? { path: options.path } : {}), ...DYNALITE_TIMINGS });

/** @param {import('./dynalite-child-protocol.js').ChildMessage} message */
const tell = (message) => new Promise((resolve) => (process.connected && process.send ? process.send(message, () => resolve()) : resolve()));

/** @type {Promise<void> | undefined} */
let closing;
/** @param {string} why @param {boolean} answer */
function shutdown(why, answer) {
  closing ??= (async () => {
    let code = 0;
    try {
      await closeDynalite(server);
    } catch (error) {
      code = 1;
      console.error(`local store (${why}): closing dynalite failed:`, error.message);
    }
    if (answer) await tell({ type: 'closed' });
    process.exit(code);
  })();
  return closing;
}

process.on('SIGINT', () => {});
process.on('SIGTERM', () => void shutdown('SIGTERM', false));
process.on('disconnect', () => void shutdown('the stack is gone', false));
process.on('message', (/** @type {import('./dynalite-child-protocol.js').ParentMessage} */ message) => {
  if (message?.type === 'close') void shutdown('asked to close', true);
});
// A request that dynalite was serving when LevelDB closed throws "Database is closed" outside any caller;
// while closing that is expected, and must not stop the close from finishing.
process.on('uncaughtException', (error) => {
  if (closing) return;
  console.error('local store failed:', error);
  process.exit(1);
});

server.once('error', (error) => {
  void tell({ type: 'failed', message: error.message }).then(() => process.exit(1));
});
server.listen(0, '127.0.0.1', async () => {
  // dynalite listens before LevelDB has opened, and a LevelDB that failed to open (most often: another
  // Wraparound holds the directory's LOCK) only shows as "Database is closed" on the first request. So the
  // port is given only once LevelDB is open, and a held lock is named as such.
  try {
    await levelDbOpened;
  } catch (error) {
    const locked = /\block\b/i.test(String(error?.cause?.message ?? '') + String(error?.message ?? ''));
    await tell(locked ? { type: 'failed', reason: 'in-use', message: `${options.path} is locked by another process` } : { type: 'failed', message: error.message });
    process.exit(1);
  }
  void tell({ type: 'listening', port: /** @type {import('node:net').AddressInfo} */ (server.address()).port });
});
