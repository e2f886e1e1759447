// `node --test scripts/check-packages.test.mjs` (part of `pnpm check:packages`):
// the package checker passes on this repository and fails on a copy with any
// one required piece taken away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkManifest, checkPackages, checkTarball, REPOSITORY } from './check-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('every package of this repository and the template pass', () => {
  assert.deepEqual(checkPackages(root, { pack: false }), []);
});

/** A throwaway repository with the root files and one package copied from packages/interfaces. */
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-check-packages-'));
  for (const f of ['LICENSE', 'package.json']) cpSync(join(root, f), join(dir, f));
  mkdirSync(join(dir, 'packages', 'interfaces'), { recursive: true });
  for (const f of ['LICENSE', 'README.md', 'package.json']) cpSync(join(root, 'packages', 'interfaces', f), join(dir, 'packages', 'interfaces', f));
  const manifest = join(dir, 'packages', 'interfaces', 'package.json');
  const edit = (fn) => {
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    fn(pkg);
    writeFileSync(manifest, JSON.stringify(pkg, null, 2));
  };
  return { dir, edit, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const breakages = [
  ['no repository', (pkg) => delete pkg.repository, /repository/],
  ['repository as a bare string', (pkg) => (pkg.repository = `${REPOSITORY}`), /repository/],
  ['another repository URL', (pkg) => (pkg.repository.url = 'git+https://github.com/someone/else.git'), /repository\.url/],
  ['no repository.directory', (pkg) => delete pkg.repository.directory, /repository\.directory/],
  ['the wrong directory', (pkg) => (pkg.repository.directory = 'packages/core'), /repository\.directory/],
  ['no homepage', (pkg) => delete pkg.homepage, /homepage/],
  ['no bugs', (pkg) => delete pkg.bugs, /bugs/],
  ['no engines', (pkg) => delete pkg.engines, /engines/],
  ['an engines range other than the root one', (pkg) => (pkg.engines.node = '>=18'), /engines/],
  ['another license', (pkg) => (pkg.license = 'ISC'), /license/],
  ['files without LICENSE', (pkg) => (pkg.files = pkg.files.filter((f) => f !== 'LICENSE')), /files.*LICENSE/],
  ['no publishConfig', (pkg) => delete pkg.publishConfig, /publishConfig/],
];

for (const [label, breakIt, expected] of breakages) {
  test(`a package with ${label} fails`, () => {
    const { dir, edit, cleanup } = fixture();
    try {
      assert.deepEqual(checkManifest(dir, 'packages/interfaces'), []);
      edit(breakIt);
      const problems = checkManifest(dir, 'packages/interfaces');
      assert.ok(problems.some((p) => expected.test(p)), `expected a problem matching ${expected}, got ${JSON.stringify(problems)}`);
    } finally {
      cleanup();
    }
  });
}

test('a package without its LICENSE file, or with another text, fails', () => {
  const { dir, cleanup } = fixture();
  try {
    rmSync(join(dir, 'packages', 'interfaces', 'LICENSE'));
    assert.ok(checkManifest(dir, 'packages/interfaces').some((p) => /no LICENSE file/.test(p)));
    writeFileSync(join(dir, 'packages', 'interfaces', 'LICENSE'), 'All rights reserved.\n');
    assert.ok(checkManifest(dir, 'packages/interfaces').some((p) => /LICENSE differs/.test(p)));
  } finally {
    cleanup();
  }
});

test('the tarball of a package holds LICENSE, README.md and its entry files, and a missing one is reported', () => {
  const { dir, edit, cleanup } = fixture();
  try {
    // No dist/ in the fixture: every entry file is reported, LICENSE and README are not.
    const missing = checkTarball(dir, 'packages/interfaces');
    assert.ok(missing.some((p) => p.includes('dist/index.js')), JSON.stringify(missing));
    assert.ok(!missing.some((p) => /LICENSE|README/.test(p)), JSON.stringify(missing));
    mkdirSync(join(dir, 'packages', 'interfaces', 'dist'));
    for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) writeFileSync(join(dir, 'packages', 'interfaces', 'dist', f), '');
    assert.deepEqual(checkTarball(dir, 'packages/interfaces'), []);
    // `files` that leaves LICENSE out, with the file still on disk: npm and pnpm add it anyway,
    // so the tarball check passes and the manifest check is what catches it.
    edit((pkg) => (pkg.files = ['dist']));
    assert.ok(!checkTarball(dir, 'packages/interfaces').some((p) => p.includes('LICENSE')));
    assert.ok(checkManifest(dir, 'packages/interfaces').some((p) => /files.*README/.test(p)));
    rmSync(join(dir, 'packages', 'interfaces', 'LICENSE'));
    assert.ok(checkTarball(dir, 'packages/interfaces').some((p) => p.includes('lacks LICENSE')));
  } finally {
    cleanup();
  }
});
