/** A file that cannot be replayed at all (missing, wrong header). Names the file and the reason. */
export class CsvFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    // Line 0: the file as a whole (missing, unreadable), not a line of it.
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'CsvFormatError';
  }
}
