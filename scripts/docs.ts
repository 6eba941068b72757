/** Rewrite the README's config reference from the schema: `npm run docs`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withReference } from '../src/config/reference.ts';

const file = new URL('../README.md', import.meta.url);
const before = readFileSync(file, 'utf8');
const after = withReference(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(
  after === before ? 'README config reference is up to date\n' : 'README config reference rewritten\n',
);
