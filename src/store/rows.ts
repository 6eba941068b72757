/** The stored form of a strategy record, shared by the SQL stores. */
import { createHash } from 'node:crypto';
import type { OperatorCommand, OperatorCommandName, StrategyRecord, StrategyStatus } from './types.ts';

/** Checksum of a stored snapshot: a flipped bit that still parses as JSON is caught too. */
export function snapshotChecksum(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export interface StrategyRow {
  id: string;
  kind: string;
  machine_version: number;
  status: string;
  spec: string;
  snapshot: string | null;
  snapshot_sum: string | null;
  instruments: string;
  /** PostgreSQL returns BIGINT as a string. */
  created_at: number | string;
  updated_at: number | string;
}

/**
 * The insert values of a record, in column order: id, kind, machine_version, status, spec,
 * snapshot, snapshot_sum, instruments, created_at, updated_at.
 */
export function strategyRowValues(rec: StrategyRecord): unknown[] {
  const snap = rec.snapshot === undefined ? null : JSON.stringify(rec.snapshot);
  return [
    rec.id,
    rec.kind,
    rec.machineVersion,
    rec.status,
    JSON.stringify(rec.spec),
    snap,
    snap === null ? null : snapshotChecksum(snap),
    JSON.stringify(rec.instruments),
    rec.createdAt,
    rec.updatedAt,
  ];
}

/** Throws on a torn or corrupted row (the caller quarantines it). */
export function parseStrategyRow(row: StrategyRow): StrategyRecord {
  if (row.snapshot !== null && row.snapshot_sum !== snapshotChecksum(row.snapshot)) {
    throw new Error('snapshot checksum mismatch (torn or corrupted write)');
  }
  return {
    id: row.id,
    kind: row.kind,
    machineVersion: Number(row.machine_version),
    status: row.status as StrategyStatus,
    spec: JSON.parse(row.spec),
    snapshot: row.snapshot === null ? undefined : JSON.parse(row.snapshot),
    instruments: JSON.parse(row.instruments) as string[],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** An operator command as SQL stores return it (SQLite integers, PostgreSQL BIGINT strings). */
export interface CommandRow {
  seq: number | string;
  strategy_id: string;
  command: string;
  created_at: number | string;
  applied_at: number | string | null;
  result: string | null;
}

export function commandFromRow(r: CommandRow): OperatorCommand {
  return {
    seq: Number(r.seq),
    strategyId: r.strategy_id,
    command: r.command as OperatorCommandName,
    createdAt: Number(r.created_at),
    ...(r.applied_at !== null ? { appliedAt: Number(r.applied_at) } : {}),
    ...(r.result !== null ? { result: r.result } : {}),
  };
}
