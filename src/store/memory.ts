import type { OrderRequest } from '../domain/index.ts';
import {
  type LoadResult,
  type OperatorCommand,
  type OperatorCommandName,
  type OrderIntent,
  type QuarantinedRecord,
  type SnapshotStore,
  StrategyExistsError,
  type StrategyRecord,
  type StrategyStatus,
  SymbolLockedError,
} from './types.ts';

/**
 * In-memory store for tests. It keeps records as JSON text, like the durable stores, so a
 * snapshot that does not survive serialisation fails here too.
 */
export class MemoryStore implements SnapshotStore {
  private readonly rows = new Map<string, string>();
  private readonly lockTable = new Map<string, string>();
  private readonly intents = new Map<string, OrderIntent>();
  /** Intents moved out of the hot journal (archiveIntents); still answered for. */
  private readonly archived = new Map<string, OrderIntent>();
  /** Client order id → how many venues journalled it (hasIntent is on every placement's path). */
  private readonly intentIds = new Map<string, number>();
  private readonly quarantined: QuarantinedRecord[] = [];

  createStrategy(rec: StrategyRecord): void {
    for (const key of rec.instruments) {
      const holder = this.lockTable.get(key);
      if (holder && holder !== rec.id) throw new SymbolLockedError(key, holder);
    }
    if (this.rows.has(rec.id)) throw new StrategyExistsError(rec.id);
    this.rows.set(rec.id, JSON.stringify(rec));
    for (const key of rec.instruments) this.lockTable.set(key, rec.id);
  }

  saveSnapshot(id: string, snapshot: unknown, status: StrategyStatus, at: number): void {
    const raw = this.rows.get(id);
    if (!raw) throw new Error(`no strategy ${id} to save`);
    const rec = JSON.parse(raw) as StrategyRecord;
    this.rows.set(id, JSON.stringify({ ...rec, snapshot, status, updatedAt: at }));
  }

  saveMigrated(id: string, snapshot: unknown, machineVersion: number, at: number): void {
    const raw = this.rows.get(id);
    if (!raw) throw new Error(`no strategy ${id} to save`);
    const rec = JSON.parse(raw) as StrategyRecord;
    this.rows.set(id, JSON.stringify({ ...rec, snapshot, machineVersion, updatedAt: at }));
  }

  listAll(): { records: StrategyRecord[]; unreadable: { id: string; reason: string }[] } {
    const records: StrategyRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const [id, raw] of this.rows) {
      try {
        records.push(JSON.parse(raw) as StrategyRecord);
      } catch (e) {
        unreadable.push({ id, reason: `unreadable record: ${(e as Error).message}` });
      }
    }
    records.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    return { records, unreadable };
  }

  loadActive(): LoadResult {
    const records: StrategyRecord[] = [];
    const quarantined: QuarantinedRecord[] = [];
    for (const [id, raw] of this.rows) {
      let rec: StrategyRecord;
      try {
        rec = JSON.parse(raw) as StrategyRecord;
      } catch (e) {
        const q = { id, reason: `unreadable record: ${(e as Error).message}`, raw, at: Date.now() };
        this.moveToQuarantine(id, q.reason);
        quarantined.push(q);
        continue;
      }
      if (rec.status === 'active') records.push(rec);
    }
    return {
      records: records.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)),
      quarantined,
    };
  }

  get(id: string): StrategyRecord | undefined {
    const raw = this.rows.get(id);
    return raw ? (JSON.parse(raw) as StrategyRecord) : undefined;
  }

  releaseLocks(id: string): void {
    for (const [k, v] of this.lockTable) if (v === id) this.lockTable.delete(k);
  }

  locks(): Record<string, string> {
    return Object.fromEntries(this.lockTable);
  }

  quarantine(id: string, reason: string): void {
    if (this.rows.has(id)) this.moveToQuarantine(id, reason);
  }

  listQuarantined(): QuarantinedRecord[] {
    return [...this.quarantined];
  }

  appendIntent(intent: OrderIntent): void {
    const k = `${intent.venue}|${intent.request.clientOrderId}`;
    if (this.intents.has(k)) return;
    this.intents.set(k, JSON.parse(JSON.stringify(intent)) as OrderIntent);
    const id = intent.request.clientOrderId;
    this.intentIds.set(id, (this.intentIds.get(id) ?? 0) + 1);
  }

  hasIntent(clientOrderId: string): boolean {
    return this.intentIds.has(clientOrderId);
  }

  intentOf(clientOrderId: string): { request: OrderRequest; createdAt: number } | undefined {
    if (!this.intentIds.has(clientOrderId)) return undefined;
    const all = [...this.intents.values(), ...this.archived.values()]
      .filter((i) => i.request.clientOrderId === clientOrderId)
      .sort((a, b) => a.createdAt - b.createdAt);
    return all[0] ? { request: structuredClone(all[0].request), createdAt: all[0].createdAt } : undefined;
  }

  intentsFor(strategyId: string, since = 0): OrderIntent[] {
    return [...this.intents.values(), ...this.archived.values()]
      .filter((i) => i.strategyId === strategyId && i.createdAt >= since)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  archiveIntents(before: number): number {
    let moved = 0;
    for (const [k, i] of this.intents) {
      const raw = this.rows.get(i.strategyId);
      const savedAt = raw ? (JSON.parse(raw) as StrategyRecord).updatedAt : Number.POSITIVE_INFINITY;
      if (i.createdAt >= before || i.createdAt >= savedAt - 60_000) continue;
      this.archived.set(k, i);
      this.intents.delete(k);
      moved++;
    }
    return moved;
  }

  cleanup(before: number): string[] {
    const ids: string[] = [];
    for (const [id, raw] of this.rows) {
      const rec = JSON.parse(raw) as StrategyRecord;
      if (rec.status !== 'active' && rec.updatedAt < before) ids.push(id);
    }
    for (const id of ids) {
      this.rows.delete(id);
      this.releaseLocks(id);
      for (const journal of [this.intents, this.archived])
        for (const [k, i] of journal) {
          if (i.strategyId !== id) continue;
          journal.delete(k);
          const n = (this.intentIds.get(i.request.clientOrderId) ?? 1) - 1;
          if (n > 0) this.intentIds.set(i.request.clientOrderId, n);
          else this.intentIds.delete(i.request.clientOrderId);
        }
    }
    return ids;
  }

  private readonly commands: OperatorCommand[] = [];

  enqueueCommand(strategyId: string, command: OperatorCommandName, at: number): number {
    const seq = this.commands.length + 1;
    this.commands.push({ seq, strategyId, command, createdAt: at });
    return seq;
  }

  pendingCommands(): OperatorCommand[] {
    return this.commands.filter((c) => c.appliedAt === undefined).map((c) => ({ ...c }));
  }

  markCommand(seq: number, at: number, result: string): void {
    const c = this.commands[seq - 1];
    if (c && c.appliedAt === undefined) Object.assign(c, { appliedAt: at, result });
  }

  command(seq: number): OperatorCommand | undefined {
    const c = this.commands[seq - 1];
    return c ? { ...c } : undefined;
  }

  private readonly meta = new Map<string, string>();

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  metaWithPrefix(prefix: string): Record<string, string> {
    return Object.fromEntries([...this.meta].filter(([k]) => k.startsWith(prefix)));
  }

  close(): void {}

  /** Tests: overwrite a stored row with arbitrary text (a torn or corrupted write). */
  corrupt(id: string, raw: string): void {
    this.rows.set(id, raw);
  }

  private moveToQuarantine(id: string, reason: string): void {
    this.quarantined.push({ id, reason, raw: this.rows.get(id) ?? '', at: Date.now() });
    this.rows.delete(id);
    this.releaseLocks(id);
  }
}
