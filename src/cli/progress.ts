/** A progress bar on stderr for long runs: redrawn at most five times a second, erased at the end. */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  update(fraction: number, detail: string): void {
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    // Short runs never show a bar: it would only flicker.
    if (!this.drawn && now - this.started < 500) return;
    this.lastDraw = now;
    this.drawn = true;
    const f = Math.max(0, Math.min(1, fraction));
    const width = 30;
    const full = Math.round(f * width);
    const elapsed = (now - this.started) / 1000;
    const eta = f > 0.01 ? Math.max(0, elapsed / f - elapsed) : Number.NaN;
    this.stream.write(
      `\r${this.label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${detail}${
        Number.isFinite(eta) ? ` ETA ${eta.toFixed(0)}s` : ''
      }\x1b[K`,
    );
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}
