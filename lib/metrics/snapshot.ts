import { open, readFile, rename } from 'node:fs/promises';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { FactTable, type FactTableLayout } from '../domain/metrics/fact-table.ts';
import { FACTS_SCHEMA_VERSION } from '../domain/metrics/facts.ts';

/**
 * The metrics columns in a file of the data directory, so that a normal restart reads one file instead
 * of every plan's fact item through dynalite (at 100,000 plans that read was most of the start time and
 * of both processes' peak memory: README, Benchmarks).
 *
 * A snapshot is trusted only when the metrics marker item in the table names its token (MetricsIndex
 * writes the file, then the token, at a clean stop, and removes the token before the stack writes
 * anything), so a crash, a copy of an older file or another build's file all fall back to the full load.
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
