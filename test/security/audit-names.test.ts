/**
 * "Who has seen this plan" names people: over real HTTP against the embedded stack (dynalite), an
 * access by a named coordinator is listed with her name and the role she acted in, a provider's staff
 * member with her name and organisation; a token without a name, and a record of the shape written
 * before names were kept, are listed with the subject id only (the page says "unknown name"), and
 * reading them rewrites nothing. Only the name, role and organisation are stored, never the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import type { AuditEntry, AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import { referralBody, scanTable, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;
let planId: string;
let jo: string;
let sam: string;
let unnamed: string;
const JO = { sub: 'c0ffee00-0000-4000-8000-00000000a001', name: 'Jo Okonjo-Marsh' };
const SAM = { sub: 'c0ffee00-0000-4000-8000-00000000b002', name: 'Sam Achterberg' };
const UNNAMED_SUB = 'c0ffee00-0000-4000-8000-00000000c003';
/** A record as the writer before this change stored it: no whoName, no whoProviderId. */
const OLD_SHAPE = { who: 'c0ffee00-0000-4000-8000-00000000d004', role: 'coordinator', action: 'read-plan', why: 'support-planning' } as const;

async function auditOfPlan(): Promise<AuditRecord[]> {
  const res = await s.call('GET', `/audit?from=${s.today()}&to=${s.today()}&planId=${planId}&limit=1000`, { token: s.teamLead });
  expect(res.status, res.text).toBe(200);
  return res.json.items as AuditRecord[];
}

const storedAudit = async () => (await scanTable(s.stack, { withAudit: true })).filter((i) => String(i.pk).startsWith('AUDIT#'));

beforeAll(async () => {
  s = await startSecurityStack();
  jo = await s.stack.tokens.issue({ role: 'coordinator', ...JO });
  sam = await s.stack.tokens.issue({ role: 'provider', providerId: 'bcwa', ...SAM });
  unnamed = await s.stack.tokens.issue({ role: 'coordinator', sub: UNNAMED_SUB });
  const referred = await s.call('POST', '/plans', { token: jo, body: referralBody() });
  expect(referred.status, referred.text).toBe(201);
  planId = referred.json.planId;
  expect((await s.call('GET', `/plans/${planId}`, { token: jo })).status).toBe(200);
  expect((await s.call('GET', `/plans/${planId}/history`, { token: unnamed })).status).toBe(200);
  expect((await s.call('GET', '/providers/bcwa/offers', { token: sam })).status).toBe(200);
  // The old writer's record, put through the log as it put them (the log stores what it is given).
  const old: AuditEntry = { ...OLD_SHAPE, planId, at: s.now() };
  await new DynamoAuditLog(s.stack.plans.client, s.stack.plans.tableName).record(old);
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

describe('the audit view names the person who made each access', () => {
  it("lists a named coordinator's accesses with her name and the role she acted in", async () => {
    const hers = (await auditOfPlan()).filter((r) => r.who === JO.sub);
    expect(hers.map((r) => r.action).sort()).toEqual(['read-plan-and-identity', 'refer-and-record-identity']);
    for (const record of hers) {
      expect(record).toMatchObject({ whoName: JO.name, role: 'coordinator' });
      expect(record.whoProviderId).toBeUndefined();
    }
  });

  it("lists a provider's staff member with her name and her organisation", async () => {
    const res = await s.call('GET', `/audit?from=${s.today()}&to=${s.today()}&limit=1000`, { token: s.teamLead });
    const read = (res.json.items as AuditRecord[]).filter((r) => r.who === SAM.sub);
    expect(read).toEqual([expect.objectContaining({ whoName: SAM.name, role: 'provider', whoProviderId: 'bcwa', action: 'read-provider-offers' })]);
  });

  it('lists an access by a token without a name, and a record of the old shape, with the subject id only', async () => {
    const records = await auditOfPlan();
    const noName = records.find((r) => r.who === UNNAMED_SUB);
    expect(noName).toMatchObject({ action: 'read-history', role: 'coordinator' });
    expect(noName).not.toHaveProperty('whoName');
    const old = records.find((r) => r.who === OLD_SHAPE.who);
    expect(old).toEqual({ ...OLD_SHAPE, planId, at: expect.any(String), auditId: expect.any(String) });
  });

  it('stores the name, role and organisation only, never the token, and rewrites no record when read', async () => {
    const before = await storedAudit();
    await auditOfPlan();
    const after = await storedAudit();
    // Reading the log adds its own record and changes none of those before it.
    expect(after.filter((a) => before.some((b) => b.sk === a.sk))).toEqual(before);
    const text = JSON.stringify(after);
    for (const token of [jo, sam, unnamed]) {
      expect(text).not.toContain(token);
      // Nor its signature or payload on their own.
      for (const part of token.split('.').slice(1)) expect(text).not.toContain(part);
    }
    const named = after.find((i) => i.who === SAM.sub) as Record<string, unknown>;
    expect(Object.keys(named).filter((k) => k.startsWith('who')).sort()).toEqual(['who', 'whoName', 'whoProviderId']);
  });
});
