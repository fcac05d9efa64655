export { Ledger, type LedgerOptions } from './ledger.ts';
export type { ClaimGuards } from './deliveries.ts';
export type { IssueResult } from './offers.ts';
export type { ErasedOffer } from './customers.ts';
export { LedgerKeys, fnv1a32 } from './keys.ts';
export { ledgerSettings, type LedgerLimits } from './settings.ts';
export * from './schemas.ts';
export * from './reasons.ts';
