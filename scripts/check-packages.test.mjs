// `node --test scripts/check-packages.test.mjs` (part of `pnpm check:packages`):
// the package checker passes on this repository and fails on a copy with any
// one required piece taken away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bumpVersion, checkManifest, checkPackages, checkReleasePlan, checkTarball, fixManifest, REPOSITORY } from './check-packages.mjs';

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

/** A throwaway repository with README.md, .changeset/ and packages/core and packages/interfaces manifests. */
function planFixture({ core = '0.0.0', interfaces = '0.0.0', changesets = {}, rows = { '@tenant/interfaces': '0.1', '@tenant/core': '0.1' } } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-release-plan-'));
  for (const [name, version] of [['core', core], ['interfaces', interfaces]]) {
    mkdirSync(join(dir, 'packages', name), { recursive: true });
    writeFileSync(join(dir, 'packages', name, 'package.json'), JSON.stringify({ name: `@tenant/${name}`, version }));
  }
  mkdirSync(join(dir, '.changeset'));
  writeFileSync(join(dir, '.changeset', 'README.md'), '# Changesets\n');
  for (const [file, text] of Object.entries(changesets)) writeFileSync(join(dir, '.changeset', file), text);
  const table = Object.entries(rows).map(([name, v]) => `| [\`${name}\`](packages/${name.slice(8)}) | what it does | ${v} |`);
  writeFileSync(join(dir, 'README.md'), ['# x', '', '| package | what it does | version |', '|---|---|---|', ...table, ''].join('\n'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const firstRelease = `---\n"@tenant/interfaces": minor\n'@tenant/core': minor\n---\n\nFirst release.\n`;

test('bumpVersion follows changesets on 0.x versions', () => {
  assert.equal(bumpVersion('0.0.0', 'minor'), '0.1.0');
  assert.equal(bumpVersion('0.1.0', 'minor'), '0.2.0');
  assert.equal(bumpVersion('0.1.3', 'patch'), '0.1.4');
  assert.equal(bumpVersion('0.1.3', undefined), '0.1.3');
});

test('first releases from 0.0.0 with minor changesets match a README that says 0.1', () => {
  const { dir, cleanup } = planFixture({ changesets: { 'a.md': firstRelease, 'b.md': `---\n'@tenant/core': patch\n---\n\nFix.\n` } });
  try {
    assert.deepEqual(checkReleasePlan(dir), []);
  } finally {
    cleanup();
  }
});

test('a package already at 0.1.0 with a minor changeset would be released as 0.2.0, and a README that says 0.1 fails', () => {
  const { dir, cleanup } = planFixture({ core: '0.1.0', changesets: { 'a.md': firstRelease } });
  try {
    const problems = checkReleasePlan(dir);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], /@tenant\/core is listed as "0\.1", but its pending changesets give 0\.2\.0/);
  } finally {
    cleanup();
  }
});

test('a major bump, an unknown bump, an unknown package and a changeset without front matter fail', () => {
  const { dir, cleanup } = planFixture({
    changesets: {
      'a.md': firstRelease,
      'b.md': `---\n'@tenant/core': major\n---\n\nBreak.\n`,
      'c.md': `---\n'@tenant/core': huge\n---\n\nBreak.\n`,
      'd.md': `---\n'@tenant/nope': patch\n---\n\nWho?\n`,
      'e.md': 'No front matter.\n',
    },
  });
  try {
    const problems = checkReleasePlan(dir).join('\n');
    assert.match(problems, /b\.md: @tenant\/core is 0\.x: a breaking change is a minor bump, never major/);
    assert.match(problems, /c\.md: @tenant\/core has bump "huge"/);
    assert.match(problems, /d\.md: @tenant\/nope is not a published package/);
    assert.match(problems, /e\.md: no front matter/);
  } finally {
    cleanup();
  }
});

test('a package missing from the README table, or a row for no package, fails', () => {
  const { dir, cleanup } = planFixture({ changesets: { 'a.md': firstRelease }, rows: { '@tenant/core': '0.1', '@tenant/gone': '0.1' } });
  try {
    const problems = checkReleasePlan(dir).join('\n');
    assert.match(problems, /no row for @tenant\/interfaces \(version 0\.1\)/);
    assert.match(problems, /lists @tenant\/gone, which is not a published package/);
  } finally {
    cleanup();
  }
});

test('--fix gives a package made before the convention everything the check asks for, and keeps its other fields', () => {
  const { dir, edit, cleanup } = fixture();
  try {
    edit((pkg) => {
      delete pkg.repository;
      delete pkg.homepage;
      delete pkg.bugs;
      delete pkg.publishConfig;
      pkg.engines = { node: '>=20' };
      pkg.files = ['dist'];
    });
    rmSync(join(dir, 'packages', 'interfaces', 'LICENSE'));
    assert.ok(checkManifest(dir, 'packages/interfaces').length >= 6);
    const before = JSON.parse(readFileSync(join(dir, 'packages', 'interfaces', 'package.json'), 'utf8'));
    fixManifest(dir, 'packages/interfaces');
    assert.deepEqual(checkManifest(dir, 'packages/interfaces'), []);
    const after = JSON.parse(readFileSync(join(dir, 'packages', 'interfaces', 'package.json'), 'utf8'));
    assert.deepEqual(after.exports, before.exports);
    assert.equal(after.version, before.version);
    assert.deepEqual(after.files, ['dist', 'README.md', 'LICENSE']);
    assert.deepEqual(Object.keys(after).slice(0, 7), ['name', 'version', 'description', 'license', 'homepage', 'repository', 'bugs']);
  } finally {
    cleanup();
  }
});
