import { z } from 'zod';

/**
 * Need domains: the reducing-reoffending pathways, the women's pathways and New Chance's specialist
 * interventions. They double as the HSDS taxonomy terms that tag provider services.
 */
export const NEED_DOMAINS = [
  'accommodation',
  'education-training-employment',
  'physical-health',
  'mental-health',
  'substance-misuse',
  'alcohol',
  'finance-benefit-debt',
  'children-families',
  'thinking-behaviour',
  'domestic-abuse',
  'sexual-exploitation',
  'trauma',
  'emotional-resilience',
  'interpersonal-skills',
] as const;
export const NeedDomain = z.enum(NEED_DOMAINS).describe('Need domain (taxonomy term)');
export type NeedDomain = z.infer<typeof NeedDomain>;

/**
 * Local authorities the programme takes referrals from: the seven West Midlands Police area
 * authorities, plus neighbouring ones so an out-of-area referral is recorded (and shows up as a
 * coverage gap) instead of being refused.
 */
export const LOCAL_AUTHORITIES = [
  'birmingham',
  'coventry',
  'dudley',
  'sandwell',
  'solihull',
  'walsall',
  'wolverhampton',
  'staffordshire',
  'warwickshire',
  'worcestershire',
  'shropshire',
  'telford-and-wrekin',
] as const;
export const LocalAuthority = z.enum(LOCAL_AUTHORITIES).describe('Local authority (slug)');
export type LocalAuthority = z.infer<typeof LocalAuthority>;

export const REFERRAL_SOURCES = [
  'custody-diversion',
  'out-of-court-disposal',
  'court',
  'problem-solving-court',
  'probation',
  'self',
  'other-agency',
] as const;
export const ReferralSource = z.enum(REFERRAL_SOURCES);
export type ReferralSource = z.infer<typeof ReferralSource>;
