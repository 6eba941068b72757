// The package's JavaScript: src/ and machines/ compiled to dist/ (with .d.ts types; relative
// .ts imports rewritten to .js), and the files they read at run time beside them (the
// inspector's page, the PostgreSQL worker, the bundled configs). `npm pack` runs it (prepack).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
const copy = (dir) => {
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) copy(p);
    else if (!/\.ts$/.test(name)) cpSync(join(root, p), join(root, 'dist', p));
  }
};
copy('src');
copy('machines');
// The bundled paper config, where the built CLI looks for it (dist/src/cli → dist/config).
cpSync(join(root, 'config'), join(root, 'dist/config'), { recursive: true });
