import { closeSync, openSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { FactTable, type FactTableLayout } from '../domain/metrics/fact-table.ts';
import { FACTS_SCHEMA_VERSION } from '../domain/metrics/facts.ts';

/**
 * The metrics columns in a file of the data directory, so that a normal restart reads one file instead
 * of every plan's fact item through dynalite (at 100,000 plans that read was most of the start time and
 * of both processes' peak memory: README, Benchmarks).
 *
 * A snapshot is trusted only when the metrics marker item in the table names its token, and with it
 * its change journal (ChangeJournal): the plans whose fact items were written after the columns were
 * taken. MetricsIndex opens the journal, takes the columns, writes the file, then names the token;
 * every save from then on puts its plan id in the journal before it writes the fact item. So the file
 * plus the fact items of the plans the journal names are exactly the stored facts, at a clean stop or
 * after a crash; a missing journal, a copy of an older file or another build's file all fall back to
 * the full load.
 *
 * The file: a 4-byte little-endian header length, the header (JSON: format, facts schema, token, byte
 * order, CRC-32 and length of the body, the table's layout), then the body (FactTable.encode's bytes).
 */
const FORMAT = 1;
const ENDIAN = endianness();

interface Header {
  format: number;
  schema: number;
  token: string;
  endian: string;
  bodyBytes: number;
  crc32: number;
  layout: FactTableLayout;
}

export type SnapshotRead = { facts: FactTable } | { refused: string };

export class FactSnapshotFile {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  /** Write `facts` under `token`: to a temporary file, flushed, then renamed over the old one. */
  async write(facts: FactTable, token: string): Promise<void> {
    const { layout, chunks } = facts.encode();
    // A copy taken now: the chunks are views of the table's arrays, and a save while the file is written
    // may grow the table, which hands an outgrown array's memory back at once (FactTable's ensure).
    const body = Buffer.concat(chunks);
    const header: Header = { format: FORMAT, schema: FACTS_SCHEMA_VERSION, token, endian: ENDIAN, bodyBytes: body.byteLength, crc32: crc32(body), layout };
    const headerBytes = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(headerBytes.byteLength);
    const temporary = `${this.path}.writing`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writev([length, headerBytes, body]);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
  }

  /** The table saved under `token`, or why the file cannot be trusted (missing, another token, format, schema, damaged). */
  async read(token: string): Promise<SnapshotRead> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      return { refused: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no snapshot file' : `unreadable: ${(error as Error).message}` };
    }
    if (bytes.byteLength < 4) return { refused: 'damaged: too short' };
    const headerLength = bytes.readUInt32LE(0);
    if (4 + headerLength > bytes.byteLength) return { refused: 'damaged: header longer than the file' };
    let header: Header;
    try {
      header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength)) as Header;
    } catch {
      return { refused: 'damaged: header is not JSON' };
    }
    if (header.format !== FORMAT) return { refused: `format ${header.format}, not ${FORMAT}` };
    if (header.schema !== FACTS_SCHEMA_VERSION) return { refused: `facts schema ${header.schema}, not ${FACTS_SCHEMA_VERSION}` };
    if (header.token !== token) return { refused: 'not the snapshot the table names' };
    if (header.endian !== ENDIAN) return { refused: `byte order ${header.endian}, not ${ENDIAN}` };
    const body = bytes.subarray(4 + headerLength);
    if (body.byteLength !== header.bodyBytes || crc32(body) !== header.crc32) return { refused: 'damaged: the body does not match its length and checksum' };
    try {
      return { facts: FactTable.decode(header.layout, body) };
    } catch (error) {
      return { refused: `damaged: ${(error as Error).message}` };
    }
  }
}

const JOURNAL_HEADER = 'wraparound metrics changes 1';

export type JournalRead = { planIds: string[] } | { refused: string };

/** Removes a change journal's file (fs.promises.rm in production; a test passes one it can hold). */
export type RemoveFile = (path: string, options: { force: boolean }) => Promise<void>;

/** What the metrics index does with an open change journal (a ChangeJournal in production). */
export interface JournalWriter {
  append(planIds: Iterable<string>): void;
  close(): void;
  discard(): Promise<void>;
}

/**
 * Creates and opens the change journal of the snapshot at `snapshotPath` named `token`: in production
 * `new ChangeJournal(…).open()`; a test passes one whose writes it can make fail (a full disk).
 */
export type OpenJournal = (snapshotPath: string, token: string) => JournalWriter;

/**
 * The change journal of one snapshot: `<snapshot path>.<token>.changes`, a header line naming the token,
 * then one plan id a line, appended (synchronously, so a save does not go on to write its fact item
 * before its id is in the file) by every save after the columns were taken. A process that dies keeps
 * what it wrote (the kernel has it); a last line cut short by the crash named a plan whose fact item
 * was not yet being written, and is left out.
 */
export class ChangeJournal implements JournalWriter {
  readonly path: string;
  readonly token: string;
  private fd: number | undefined;
  private readonly removeFile: RemoveFile;

  constructor(snapshotPath: string, token: string, removeFile: RemoveFile = rm) {
    this.path = ChangeJournal.pathOf(snapshotPath, token);
    this.token = token;
    this.removeFile = removeFile;
  }

  static pathOf(snapshotPath: string, token: string): string {
    return `${snapshotPath}.${token}.changes`;
  }

  /** Create it (empty but for the header), flushed, before the columns are taken. */
  open(): this {
    this.fd = openSync(this.path, 'w', 0o600);
    writeSync(this.fd, `${JOURNAL_HEADER} ${this.token}\n`);
    return this;
  }

  append(planIds: Iterable<string>): void {
    if (this.fd === undefined) throw new Error('metrics change journal: not open');
    let text = '';
    for (const planId of planIds) {
      if (planId.includes('\n')) throw new RangeError('metrics change journal: a plan id holds a line break');
      text += `${planId}\n`;
    }
    if (text) writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Close and delete it (its snapshot is no longer the one named). */
  async discard(): Promise<void> {
    this.close();
    await this.removeFile(this.path, { force: true });
  }

  /** The distinct plans the journal of `token` names, or why it cannot be used. */
  static async read(snapshotPath: string, token: string): Promise<JournalRead> {
    let text: string;
    try {
      text = await readFile(ChangeJournal.pathOf(snapshotPath, token), 'utf8');
    } catch (error) {
      return { refused: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no change journal' : `change journal unreadable: ${(error as Error).message}` };
    }
    const lines = text.split('\n');
    if (lines[0] !== `${JOURNAL_HEADER} ${token}`) return { refused: 'change journal damaged: not the header of this snapshot' };
    // The last element is what follows the last line break: '' or a line cut short (left out, see above).
    return { planIds: [...new Set(lines.slice(1, -1).filter((line) => line !== ''))] };
  }

  /** Delete every change journal of the snapshot at `snapshotPath` but `keep`'s. */
  static async removeAll(snapshotPath: string, keep?: string, removeFile: RemoveFile = rm): Promise<void> {
    const dir = dirname(snapshotPath);
    const prefix = `${basename(snapshotPath)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.filter((name) => name.startsWith(prefix) && name.endsWith('.changes') && (keep === undefined || join(dir, name) !== ChangeJournal.pathOf(snapshotPath, keep))).map((name) => removeFile(join(dir, name), { force: true })),
    );
  }
}
