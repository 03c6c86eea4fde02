/**
 * The whole table, compared before and after a batch of requests: what a refusal must never touch.
 */
import { isDeepStrictEqual } from 'node:util';
import type { EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { scanTable } from '../support/http.ts';

type Item = Record<string, unknown>;

/**
 * Items a read or a refusal may legitimately write: an access audit log (issue 8 asks for one; it
 * records reads and may record refusals). None exist yet; this keeps the comparison honest when they do.
 */
const isAuditRecord = (item: Item) => item.type === 'audit' || String(item.pk).startsWith('AUDIT#');

export async function snapshot(stack: EmbeddedStack): Promise<Map<string, Item>> {
  const items = await scanTable(stack);
  return new Map(items.filter((i) => !isAuditRecord(i)).map((i) => [`${i.pk} | ${i.sk}`, i]));
}

export interface StoreDiff {
  added: string[];
  removed: string[];
  changed: { key: string; fields: string[] }[];
}

export function diff(before: Map<string, Item>, after: Map<string, Item>): StoreDiff | undefined {
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed: StoreDiff['changed'] = [];
  for (const [key, was] of before) {
    const now = after.get(key);
    if (!now || isDeepStrictEqual(was, now)) continue;
    const fields = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((f) => !isDeepStrictEqual(was[f], now[f]));
    changed.push({ key, fields });
  }
  return added.length || removed.length || changed.length ? { added, removed, changed } : undefined;
}

export function describeDiff(d: StoreDiff): string {
  const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? ` … (${xs.length})` : '');
  return [
    d.added.length ? `added ${list(d.added)}` : '',
    d.removed.length ? `removed ${list(d.removed)}` : '',
    d.changed.length ? `changed ${list(d.changed.map((c) => `${c.key} [${c.fields.join(', ')}]`))}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
