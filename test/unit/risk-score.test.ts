/**
 * The worklist's risk weighs a risk the assessment left out as not assessed, deliberately (views.ts
 * riskScore): never below the same risk assessed as none or standard, never above one known to be high.
 */
import { describe, expect, it } from 'vitest';
import { riskFlags, riskScore } from '../../lib/domain/views.ts';
import type { Risks } from '../../lib/domain/schemas.ts';

const assessedAt = '2026-11-29T10:00:00.000Z';
const score = (risks?: Risks) => riskScore({ assessedAt, ...(risks ? { risks } : {}) });
const known = { selfHarm: false, safeguardingChildren: false };

describe('riskScore', () => {
  it('an unassessed domestic-abuse risk sorts above none and standard, with medium, below high', () => {
    const unassessed = score(known);
    expect(unassessed).toBeGreaterThan(score({ ...known, domesticAbuse: 'none' }));
    expect(unassessed).toBeGreaterThan(score({ ...known, domesticAbuse: 'standard' }));
    expect(unassessed).toBe(score({ ...known, domesticAbuse: 'medium' }));
    expect(unassessed).toBeLessThan(score({ ...known, domesticAbuse: 'high' }));
  });

  it('unassessed self-harm and children at risk sort between no and yes', () => {
    const da = { domesticAbuse: 'none' } as const;
    expect(score({ ...da, safeguardingChildren: false })).toBeGreaterThan(score({ ...da, selfHarm: false, safeguardingChildren: false }));
    expect(score({ ...da, safeguardingChildren: false })).toBeLessThan(score({ ...da, selfHarm: true, safeguardingChildren: false }));
    expect(score({ ...da, selfHarm: false })).toBeGreaterThan(score({ ...da, selfHarm: false, safeguardingChildren: false }));
    expect(score({ ...da, selfHarm: false })).toBeLessThan(score({ ...da, selfHarm: false, safeguardingChildren: true }));
  });

  it('an assessment with no risks at all scores as a known high domestic-abuse risk alone; before any assessment, nothing is known: 0', () => {
    expect(score()).toBe(score({ domesticAbuse: 'high', ...known }));
    expect(score({})).toBe(score());
    expect(riskScore({})).toBe(0);
  });

  it('the worklist says "Higher risk" only of risks assessed, and names the risks an assessment left out', () => {
    // Assessed without risks: sorts as a known high risk, but nothing known is high.
    expect(riskFlags({ assessedAt })).toEqual({ higherRisk: false, risksNotAssessed: ['domesticAbuse', 'selfHarm', 'safeguardingChildren'] });
    expect(riskFlags({ assessedAt, risks: { domesticAbuse: 'high', ...known } })).toEqual({ higherRisk: true, risksNotAssessed: [] });
    expect(riskFlags({ assessedAt, risks: { domesticAbuse: 'high' } })).toEqual({ higherRisk: true, risksNotAssessed: ['selfHarm', 'safeguardingChildren'] });
    expect(riskFlags({ assessedAt, risks: { domesticAbuse: 'medium' } })).toEqual({ higherRisk: false, risksNotAssessed: ['selfHarm', 'safeguardingChildren'] });
    expect(riskFlags({ assessedAt, risks: { selfHarm: true, safeguardingChildren: true } })).toEqual({ higherRisk: true, risksNotAssessed: ['domesticAbuse'] });
    expect(riskFlags({ assessedAt, risks: { domesticAbuse: 'none', ...known } })).toEqual({ higherRisk: false, risksNotAssessed: [] });
    // Before the assessment nothing is said missing.
    expect(riskFlags({})).toEqual({ higherRisk: false, risksNotAssessed: [] });
  });
});
