#!/usr/bin/env node
// Checks what every published package must carry, beside publint and attw
// (`pnpm check:packages` runs all three; CI runs it):
// - the MIT LICENSE of the repository root, in the package folder and in the
//   tarball (`pnpm pack --dry-run`), with README.md, package.json and every
//   file the `exports` map, `main`, `module`, `types` and `bin` point at;
// - `license`, `repository` (git, the one URL, `directory` = its folder),
//   `homepage`, `bugs`, `engines.node` (the root's), `publishConfig.access`;
// - the same fields in templates/package, so new packages start with them;
// - the release plan: every changeset names existing packages with a patch or
//   minor bump (all packages are 0.x), and the version column of README.md's
//   package table is the major.minor that `changeset version` will give each
//   package (0.1 for every first release), so docs and versions agree.
//
// `node scripts/check-packages.mjs [--no-pack] [--fix] [root]`; exits 1 and
// lists the problems when a package lacks any of them. `--fix` first writes
// what can be derived (the LICENSE copy, `files`, `repository`, `homepage`,
// `bugs`, `engines`, `publishConfig`) into every package and the template; the
// README row and the changesets stay yours to write.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository every package.json names (`repository.url`, `homepage`, `bugs`). */
export const REPOSITORY = 'https://github.com/tenant-js/tenant';

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** Relative paths (without `./`) that a manifest's entry fields point at. */
function entryFiles(pkg) {
  const out = new Set();
  const walk = (value) => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.includes('*')) out.add(value.slice(2));
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) walk(v);
    }
  };
  walk(pkg.exports);
  for (const field of ['main', 'module', 'types']) if (typeof pkg[field] === 'string') out.add(pkg[field].replace(/^\.\//, ''));
  if (typeof pkg.bin === 'string') out.add(pkg.bin.replace(/^\.\//, ''));
  else if (pkg.bin) for (const v of Object.values(pkg.bin)) out.add(String(v).replace(/^\.\//, ''));
  return [...out];
}

/**
 * Checks one package folder (or the template, whose `directory` keeps the
 * `__NAME__` placeholder). Returns the problems found, one string each.
 */
export function checkManifest(root, dir, { template = false } = {}) {
  const problems = [];
  const where = dir;
  const at = (msg) => problems.push(`${where}: ${msg}`);
  const manifestPath = join(root, dir, 'package.json');
  if (!existsSync(manifestPath)) return [`${where}: no package.json`];
  const pkg = readJson(manifestPath);
  const rootPkg = readJson(join(root, 'package.json'));
  const folder = template ? 'packages/__NAME__' : dir;
  const name = template ? '@tenant/__NAME__' : `@tenant/${dir.split('/').pop()}`;

  if (pkg.private) return problems;
  if (pkg.name !== name) at(`name is ${JSON.stringify(pkg.name)}, expected ${JSON.stringify(name)}`);
  if (pkg.license !== 'MIT') at(`license is ${JSON.stringify(pkg.license)}, expected "MIT"`);

  const license = join(root, dir, 'LICENSE');
  if (!existsSync(license)) at('no LICENSE file (copy the root LICENSE)');
  else if (readFileSync(license, 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) at('LICENSE differs from the root LICENSE');
  if (!existsSync(join(root, dir, 'README.md'))) at('no README.md');
  if (Array.isArray(pkg.files)) {
    for (const f of ['LICENSE', 'README.md']) if (!pkg.files.includes(f)) at(`"files" does not list ${f}`);
  }

  const repo = pkg.repository;
  if (!repo || typeof repo !== 'object') at('no "repository" object ({ type, url, directory })');
  else {
    if (repo.type !== 'git') at(`repository.type is ${JSON.stringify(repo.type)}, expected "git"`);
    if (repo.url !== `git+${REPOSITORY}.git`) at(`repository.url is ${JSON.stringify(repo.url)}, expected "git+${REPOSITORY}.git"`);
    if (repo.directory !== folder) at(`repository.directory is ${JSON.stringify(repo.directory)}, expected ${JSON.stringify(folder)}`);
  }
  const homepage = `${REPOSITORY}/tree/main/${folder}#readme`;
  if (pkg.homepage !== homepage) at(`homepage is ${JSON.stringify(pkg.homepage)}, expected ${JSON.stringify(homepage)}`);
  if (pkg.bugs?.url !== `${REPOSITORY}/issues`) at(`bugs.url is ${JSON.stringify(pkg.bugs?.url)}, expected "${REPOSITORY}/issues"`);
  if (!pkg.engines?.node) at('no engines.node');
  else if (pkg.engines.node !== rootPkg.engines?.node) at(`engines.node is ${JSON.stringify(pkg.engines.node)}, the repository says ${JSON.stringify(rootPkg.engines?.node)}`);
  if (pkg.publishConfig?.access !== 'public') at('publishConfig.access is not "public"');
  if (!pkg.scripts?.['check:package']) at('no "check:package" script (publint --strict && attw --pack .)');
  return problems;
}

/**
 * Writes the derivable metadata into one package folder (or the template):
 * the root LICENSE, `LICENSE` and `README.md` in `files`, `repository`,
 * `homepage` and `bugs` right after `license`, the root's `engines.node`, and
 * public `publishConfig.access`. Other fields keep their order and values.
 */
export function fixManifest(root, dir, { template = false } = {}) {
  const manifestPath = join(root, dir, 'package.json');
  const pkg = readJson(manifestPath);
  if (pkg.private) return;
  const rootPkg = readJson(join(root, 'package.json'));
  const folder = template ? 'packages/__NAME__' : dir;
  const links = {
    homepage: `${REPOSITORY}/tree/main/${folder}#readme`,
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: folder },
    bugs: { url: `${REPOSITORY}/issues` },
  };
  const out = {};
  for (const [key, value] of Object.entries(pkg)) {
    if (key in links) continue;
    out[key] = value;
    if (key === 'license') Object.assign(out, links);
  }
  if (!('license' in out)) Object.assign(out, { license: 'MIT' }, links);
  out.license = 'MIT';
  out.engines = { ...out.engines, node: rootPkg.engines.node };
  out.publishConfig = { ...out.publishConfig, access: 'public' };
  if (Array.isArray(out.files)) for (const f of ['README.md', 'LICENSE']) if (!out.files.includes(f)) out.files.push(f);
  writeFileSync(manifestPath, `${JSON.stringify(out, null, 2)}\n`);
  copyFileSync(join(root, 'LICENSE'), join(root, dir, 'LICENSE'));
}

/** Lists the tarball of a package (`pnpm pack --dry-run --json`) and checks what must be in it. */
export function checkTarball(root, dir) {
  const pkg = readJson(join(root, dir, 'package.json'));
  if (pkg.private) return [];
  let listing;
  try {
    listing = JSON.parse(execFileSync('pnpm', ['pack', '--dry-run', '--json'], { cwd: join(root, dir), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (error) {
    return [`${dir}: pnpm pack --dry-run failed: ${String(error.stderr || error.message).trim().split('\n')[0]}`];
  }
  const files = new Set(listing.files.map((f) => f.path));
  const problems = [];
  for (const f of ['LICENSE', 'README.md', 'package.json', ...entryFiles(pkg)]) {
    if (!files.has(f)) problems.push(`${dir}: the tarball lacks ${f}${f.startsWith('dist/') ? ' (run the build first)' : ''}`);
  }
  return problems;
}

/** Every package folder under packages/, and the template. */
export function packageDirs(root) {
  const base = join(root, 'packages');
  return readdirSync(base)
    .filter((d) => statSync(join(base, d)).isDirectory() && existsSync(join(base, d, 'package.json')))
    .sort()
    .map((d) => `packages/${d}`);
}

const BUMPS = ['patch', 'minor', 'major'];

/** The bumps each pending changeset asks for: `[{ file, name, bump }]`. */
export function readChangesets(root) {
  const dir = join(root, '.changeset');
  if (!existsSync(dir)) return [];
  const out = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.md') || file === 'README.md') continue;
    const text = readFileSync(join(dir, file), 'utf8');
    const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
    if (!front) {
      out.push({ file, name: undefined, bump: undefined });
      continue;
    }
    for (const line of front[1].split(/\r?\n/)) {
      if (line.trim() === '') continue;
      const m = /^\s*(['"]?)(@?[^'":]+)\1\s*:\s*(\S+)\s*$/.exec(line);
      out.push({ file, name: m?.[2], bump: m?.[3] });
    }
  }
  return out;
}

/** `version` raised by `bump` as changesets does it (0.x included: minor 0.1.2 -> 0.2.0). */
export function bumpVersion(version, bump) {
  const [major, minor, patch] = version.split('-')[0].split('.').map(Number);
  if (bump === 'major') return `${major + 1}.0.0`;
  if (bump === 'minor') return `${major}.${minor + 1}.0`;
  if (bump === 'patch') return `${major}.${minor}.${patch + 1}`;
  return version;
}

/**
 * Checks the pending changesets against the packages, and README.md's package
 * table against the versions they will produce. A dependent that changesets
 * bumps because of a dependency only gets a patch, which leaves major.minor as
 * it is, so the highest bump of each package's own changesets decides.
 */
export function checkReleasePlan(root) {
  const problems = [];
  const packages = new Map();
  for (const dir of packageDirs(root)) {
    const pkg = readJson(join(root, dir, 'package.json'));
    if (!pkg.private) packages.set(pkg.name, { dir, version: pkg.version, bump: undefined });
  }
  for (const { file, name, bump } of readChangesets(root)) {
    const where = `.changeset/${file}`;
    if (name === undefined) {
      problems.push(`${where}: no front matter naming packages and bumps`);
      continue;
    }
    const entry = packages.get(name);
    if (!entry) {
      problems.push(`${where}: ${name} is not a published package of packages/`);
      continue;
    }
    if (!BUMPS.includes(bump)) problems.push(`${where}: ${name} has bump ${JSON.stringify(bump)}, expected patch or minor`);
    else if (bump === 'major' && entry.version.startsWith('0.')) problems.push(`${where}: ${name} is 0.x: a breaking change is a minor bump, never major (docs/versioning.md)`);
    else if (BUMPS.indexOf(bump) > BUMPS.indexOf(entry.bump ?? '')) entry.bump = bump;
  }
  const readme = existsSync(join(root, 'README.md')) ? readFileSync(join(root, 'README.md'), 'utf8') : '';
  const rows = new Map();
  for (const m of readme.matchAll(/^\|\s*\[`(@tenant\/[^`]+)`\]\([^)]*\)\s*\|.*\|\s*([^|]*?)\s*\|\s*$/gm)) rows.set(m[1], m[2]);
  for (const [name, { version, bump }] of packages) {
    const next = bumpVersion(version, bump);
    const expected = next.split('.').slice(0, 2).join('.');
    if (!rows.has(name)) problems.push(`README.md: the package table has no row for ${name} (version ${expected})`);
    else if (rows.get(name) !== expected) {
      problems.push(`README.md: ${name} is listed as ${JSON.stringify(rows.get(name))}, but its ${bump ? `pending changesets give ${next}` : `version is ${version}`}: write ${expected}`);
    }
  }
  for (const name of rows.keys()) if (!packages.has(name)) problems.push(`README.md: the package table lists ${name}, which is not a published package of packages/`);
  return problems;
}

export function checkPackages(root, { pack = true } = {}) {
  const problems = [];
  if (!existsSync(join(root, 'LICENSE'))) problems.push('LICENSE: missing at the repository root');
  const rootPkg = readJson(join(root, 'package.json'));
  if (rootPkg.license !== 'MIT') problems.push('package.json: license is not "MIT"');
  if (rootPkg.repository?.url !== `git+${REPOSITORY}.git`) problems.push(`package.json: repository.url is not "git+${REPOSITORY}.git"`);
  if (problems.length) return problems;
  const dirs = packageDirs(root);
  for (const dir of dirs) problems.push(...checkManifest(root, dir));
  if (existsSync(join(root, 'templates', 'package', 'package.json'))) problems.push(...checkManifest(root, 'templates/package', { template: true }));
  problems.push(...checkReleasePlan(root));
  if (pack) for (const dir of dirs) problems.push(...checkTarball(root, dir));
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const pack = !args.includes('--no-pack');
  const root = resolve(args.find((a) => !a.startsWith('--')) ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  if (args.includes('--fix')) {
    for (const dir of packageDirs(root)) fixManifest(root, dir);
    if (existsSync(join(root, 'templates', 'package', 'package.json'))) fixManifest(root, 'templates/package', { template: true });
  }
  const problems = checkPackages(root, { pack });
  if (problems.length) {
    console.error(`${problems.length} package problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`${packageDirs(root).length} packages and the template carry LICENSE, repository, homepage, bugs and engines; README.md's versions match the pending changesets${pack ? '; their tarballs hold LICENSE, README.md and every entry file' : ''}.`);
}
