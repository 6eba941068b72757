/** A file that cannot be replayed at all (missing, wrong header). Names the file and the reason. */
export class CsvFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'CsvFormatError';
  }
}
