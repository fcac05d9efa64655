export { Ledger, CHANNEL_DEDUPES } from './ledger.ts';
export type {
  LedgerOptions,
  IssueResult,
  OfferResult,
  ClaimGuards,
  ClaimRequest,
  ConfirmRequest,
  ConfirmOutcome,
  DeliveryRef,
  ErasedCustomer,
  ErasedOffer,
} from './ledger.ts';
export { LedgerKeys, fnv1a32 } from './keys.ts';
export { ledgerSettings, DEFAULT_LEDGER_LIMITS, type LedgerLimits } from './settings.ts';
export type { CustomerKeys, PartitionKeys, KeyLayout } from './keys.ts';
export * from './schemas.ts';
