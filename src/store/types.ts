/**
 * Persistence contract of the supervisor: strategy records with their machine snapshots, the
 * order-intent journal, symbol locks, and quarantine for records that cannot be restored.
 * Implemented by SQLite (the embedded default), PostgreSQL (several engine processes; see
 * leases.ts for the ownership it adds) and memory (tests).
 */
import type { OrderRequest } from '../domain/index.ts';

export type StrategyStatus = 'active' | 'completed' | 'stopped' | 'failed';

export interface StrategyRecord {
  id: string;
  kind: string;
  /** Version of the machine definition that wrote the snapshot. */
  machineVersion: number;
  status: StrategyStatus;
  /** What the strategy was created from (params, markets): enough to build its input again. */
  spec: unknown;
  /** The machine's persisted snapshot (JSON-serialisable). */
  snapshot: unknown;
  /** Instrument keys (venue|symbol) the strategy holds locks on. */
  instruments: string[];
  createdAt: number;
  updatedAt: number;
}

export interface OrderIntent {
  strategyId: string;
  venue: string;
  request: OrderRequest;
  createdAt: number;
}

export interface QuarantinedRecord {
  id: string;
  reason: string;
  /** The raw stored text, kept for a human to look at. */
  raw: string;
  at: number;
}

/** Raised when an instrument is locked by another strategy; names the holder. */
export class SymbolLockedError extends Error {
  constructor(
    readonly instrument: string,
    readonly holder: string,
  ) {
    super(`${instrument} is locked by strategy ${holder}`);
    this.name = 'SymbolLockedError';
  }
}

/** A strategy with this id is already stored (another engine process may have added it first). */
export class StrategyExistsError extends Error {
  constructor(readonly id: string) {
    super(`strategy ${id} already exists in the store`);
    this.name = 'StrategyExistsError';
  }
}

export interface LoadResult {
  records: StrategyRecord[];
  /** Rows that could not be parsed; they were moved to quarantine. */
  quarantined: QuarantinedRecord[];
}

/** What an operator asks of one strategy (from `statearb strategy …` or the inspector). */
/**
 * flatten / stop / stop-flatten / resolve / pause / resume act on one strategy; kill and
 * kill-flatten are the kill switch, queued for every strategy by `statearb kill`.
 */
export type OperatorCommandName =
  | 'flatten'
  | 'stop'
  | 'stop-flatten'
  | 'resolve'
  | 'pause'
  | 'resume'
  | 'kill'
  | 'kill-flatten';

/**
 * An operator's command, queued in the store: a running engine applies it within a second; one
 * queued while no engine runs is applied when the strategy is next restored. Applied once.
 */
export interface OperatorCommand {
  seq: number;
  strategyId: string;
  command: OperatorCommandName;
  createdAt: number;
  appliedAt?: number;
  /** What came of it: 'applied', or why it could not be (e.g. the state does not take it). */
  result?: string;
}

export interface SnapshotStore {
  /** Insert a new strategy and take its locks, atomically; SymbolLockedError when any is held. */
  createStrategy(rec: StrategyRecord): void;
  /** Replace the snapshot and status of a strategy, atomically. */
  saveSnapshot(id: string, snapshot: unknown, status: StrategyStatus, at: number): void;
  /** Replace a snapshot with its migrated form and record the machine version it now fits. */
  saveMigrated(id: string, snapshot: unknown, machineVersion: number, at: number): void;
  /** Every strategy not in a terminal state; unreadable rows are quarantined, not returned. */
  loadActive(): LoadResult;
  get(id: string): StrategyRecord | undefined;
  /** Every strategy of any status, read only: unreadable rows are reported, never moved. */
  listAll(): { records: StrategyRecord[]; unreadable: { id: string; reason: string }[] };
  /** Release a terminal strategy's locks. */
  releaseLocks(id: string): void;
  /** Who holds each lock. */
  locks(): Record<string, string>;
  /** Move a record to quarantine with a reason (unknown machine version, failed restore…). */
  quarantine(id: string, reason: string): void;
  listQuarantined(): QuarantinedRecord[];
  /** Durable before it returns: the order intent journal. */
  appendIntent(intent: OrderIntent): void;
  hasIntent(clientOrderId: string): boolean;
  /**
   * The request journalled under this client order id and when (the first, if several venues
   * have one): an id is bound to it, and how long ago it could have left decides a re-send.
   */
  intentOf(clientOrderId: string): { request: OrderRequest; createdAt: number } | undefined;
  /**
   * A strategy's intents journalled at or after `since` (default: all), oldest first. Indexed on
   * (strategy, time): recovery reads only the last moments, however long the journal.
   */
  intentsFor(strategyId: string, since?: number): OrderIntent[];
  /**
   * Move intents journalled before `before` out of the hot journal into the archive — never one
   * recovery may still read (journalled within a minute of its strategy's last snapshot, or
   * later). Archived intents still answer hasIntent, intentOf and intentsFor. Returns how
   * many moved.
   */
  archiveIntents(before: number): number;
  /** Delete terminal strategies (and their intents) last updated before `before`; returns their ids. */
  cleanup(before: number): string[];
  /** Queue an operator command for a strategy; returns its sequence number. */
  enqueueCommand(strategyId: string, command: OperatorCommandName, at: number): number;
  /** Commands not applied yet, oldest first. */
  pendingCommands(): OperatorCommand[];
  /** Record what came of a command (once: a command already marked stays as it was). */
  markCommand(seq: number, at: number, result: string): void;
  /** A command by sequence number (for the CLI to report what the engine did). */
  command(seq: number): OperatorCommand | undefined;
  /** Small engine records that must outlive a restart (the risk day's books): set replaces. */
  setMeta(key: string, value: string): void;
  /** Every record whose key starts with `prefix`. */
  metaWithPrefix(prefix: string): Record<string, string>;
  close(): void;
}
