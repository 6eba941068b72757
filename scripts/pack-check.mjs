// What users get, tested as they get it: `npm pack` the package, unpack the tarball into a
// scratch project (its dependencies linked from this checkout's node_modules: no network), and
// there typecheck and test two projects that import only `statearb` and `statearb/testing`
// (resolved through the package's exports to the built JavaScript): test/package/consumer and
// the custom-strategy example (its funding-carry kind and its property test), and drive the
// installed CLI with each one's config.
//
//   node scripts/pack-check.mjs
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const scratch = mkdtempSync(join(tmpdir(), 'statearb-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, CI: 'true' } });
try {
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], {
    cwd: root,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1);
  const pkg = join(scratch, 'node_modules/statearb');
  mkdirSync(pkg, { recursive: true });
  run('tar', ['-xzf', join(scratch, tgz), '-C', pkg, '--strip-components=1'], scratch);
  // What an install brings, linked from this checkout: the package's dependencies and its
  // peers (vitest, fast-check) — not its devDependencies, so a runtime import of one fails here.
  // TypeScript and Node's types come too, for the project's typecheck only.
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const linked = [
    ...Object.keys(manifest.dependencies),
    ...Object.keys(manifest.peerDependencies),
    'typescript',
    '@types',
  ];
  for (const name of linked) {
    const at = join(scratch, 'node_modules', name);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), at);
  }
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  );
  const cli = join(pkg, 'bin/statearb.mjs');
  const tsconfig = join(root, 'test/package/consumer/tsconfig.json');
  for (const [name, dir, kind] of [
    ['consumer', 'test/package/consumer', 'consumer-spread'],
    ['example', 'examples/custom-strategy', 'funding-carry'],
  ]) {
    const project = join(scratch, name);
    cpSync(join(root, dir), project, { recursive: true });
    cpSync(tsconfig, join(project, 'tsconfig.json'));
    // The project typechecks against the package's declarations, and its tests pass.
    run(process.execPath, [join(scratch, 'node_modules/typescript/bin/tsc'), '-p', project], scratch);
    run(
      process.execPath,
      [join(scratch, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project],
      scratch,
    );
    // The installed CLI loads the project's own kind from its config.
    const config = join(project, existsSync(join(project, 'config.yaml')) ? 'config.yaml' : 'config.json');
    const listed = execFileSync(process.execPath, [cli, 'strategies', kind, '--config', config], {
      cwd: project,
      encoding: 'utf8',
    });
    if (!listed.startsWith(`${kind} — `))
      throw new Error(`pack-check: strategies did not list ${kind}:\n${listed}`);
  }
  // The consumer's config gives its kind bad params: refused by the kind's own schema, exit 2
  // (one copy of the library: the CLI recognises the error).
  const consumer = join(scratch, 'consumer');
  try {
    execFileSync(
      process.execPath,
      [cli, 'run', '--config', join(consumer, 'config.json'), '--duration-s', '1'],
      {
        cwd: consumer,
        stdio: 'pipe',
      },
    );
    throw new Error('pack-check: run accepted params its kind refuses');
  } catch (e) {
    if (e.status !== 2 || !/strategies\[0\]\.params\.amount/.test(String(e.stderr)))
      throw new Error(
        `pack-check: run should exit 2 naming strategies[0].params.amount, got ${e.status}:\n${e.stderr}`,
      );
  }
  console.log(`pack-check: ${tgz} works as installed`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
