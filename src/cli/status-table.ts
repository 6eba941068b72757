/** The status table `statearb run` prints every few seconds and `statearb status` prints once. */

export interface StatusRow {
  id: string;
  kind: string;
  state: string;
  legs: { venue: string; symbol: string; position: number }[];
  netPnl: number;
  fees: number;
  openOrders: number;
  cycles: number | undefined;
  note?: string | undefined;
  /** Halted (no new entries until an operator resolves it): the reason. */
  halted?: string | undefined;
  /** Needs attention: why, and what each leg holds (a column of the table when any row has one). */
  attention?: { reason: string; legs: { venue: string; symbol: string; position: number }[] } | undefined;
}

function fmtAttention(a: NonNullable<StatusRow['attention']>): string {
  const legs = a.legs.map((l) => `${l.symbol}@${l.venue} ${+l.position.toFixed(6)}`).join(', ');
  return `${a.reason} [${legs}]`;
}

function fmtPosition(legs: StatusRow['legs']): string {
  const parts = legs.filter((l) => Math.abs(l.position) > 1e-12);
  if (parts.length === 0) return 'flat';
  return parts
    .map((l) => `${l.position > 0 ? '+' : ''}${+l.position.toFixed(6)} ${l.symbol}@${l.venue}`)
    .join(', ');
}

const money = (n: number) => (Math.abs(n) < 0.005 ? '0.00' : n.toFixed(2));

export function renderStatusTable(rows: StatusRow[]): string {
  if (rows.length === 0) return '(no strategies)';
  const attention = rows.some((r) => r.attention);
  const header = ['strategy', 'kind', 'state', 'position', 'PnL', 'fees', 'orders', 'cycles'];
  if (attention) header.push('needs attention');
  const body = rows.map((r) => {
    const cells = [
      r.id,
      r.kind,
      r.attention ? 'NEEDS ATTENTION' : r.halted ? `HALTED (${r.state})` : r.state,
      fmtPosition(r.legs),
      money(r.netPnl),
      money(r.fees),
      String(r.openOrders),
      r.cycles === undefined ? '' : String(r.cycles),
    ];
    if (attention) cells.push(r.attention ? fmtAttention(r.attention) : '');
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([4, 5, 6, 7]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...body.map(line)];
  for (const r of rows) if (r.note) out.push(`  ${r.id}: ${r.note}`);
  return out.join('\n');
}
