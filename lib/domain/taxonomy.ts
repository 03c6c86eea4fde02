import * as z from 'zod';
import './issue-words.ts'; // zod's words for every schema: taxonomy is the first domain module any schema loads
import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES } from './vocabulary.ts';

export { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES };

/** Need domains (vocabulary.ts says what they are); also the HSDS taxonomy terms of provider services. */
export const NeedDomain = z.enum(NEED_DOMAINS).describe('Need domain (taxonomy term)');
export type NeedDomain = z.infer<typeof NeedDomain>;

export const LocalAuthority = z.enum(LOCAL_AUTHORITIES).describe('Local authority (slug)');
export type LocalAuthority = z.infer<typeof LocalAuthority>;

export const ReferralSource = z.enum(REFERRAL_SOURCES);
export type ReferralSource = z.infer<typeof ReferralSource>;
