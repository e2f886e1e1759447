/** Options of {@link pathVariants}. */
export interface PathVariantOptions {
  /**
   * How many random combinations of the single changes to add.
   * @default 60
   */
  readonly combinations?: number;
  /**
   * The seed of the random combinations: the same seed gives the same list.
   * @default 1
   */
  readonly seed?: number;
}

/** What kind of change made a variant (for messages). */
export type PathVariantKind = 'original' | 'encoded' | 'case' | 'trailing-slash' | 'duplicate-slash' | 'dot-segment' | 'matrix' | 'encoded-slash' | 'double-encoded' | 'combined';

/** One spelling of a path. */
export interface PathVariant {
  readonly path: string;
  readonly kind: PathVariantKind;
}

/** A small seeded generator (mulberry32): `next(n)` is an integer in `[0, n)`. */
function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const hex = (ch: string, lower: boolean): string => {
  const code = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${lower ? code.toLowerCase() : code.toUpperCase()}`;
};

/** The index of each `/` of a path, and of each character that is not one. */
function positions(path: string): { slashes: number[]; chars: number[] } {
  const slashes: number[] = [];
  const chars: number[] = [];
  for (let i = 0; i < path.length; i += 1) (path[i] === '/' ? slashes : chars).push(i);
  return { slashes, chars };
}

const at = (path: string, index: number, replacement: string): string => path.slice(0, index) + replacement + path.slice(index + 1);

/** The single changes of one path, each as a function of the path (so that they compose). */
const CHANGES: readonly [PathVariantKind, (path: string, pick: (n: number) => number) => string][] = [
  // percent-encode one character, upper- or lower-case hex (`%6A` / `%6a`)
  ['encoded', (p, pick) => {
    const { chars } = positions(p);
    const i = chars[pick(chars.length)];
    return i === undefined || p[i] === '%' ? p : at(p, i, hex(p[i] as string, pick(2) === 0));
  }],
  // change the case of one letter
  ['case', (p, pick) => {
    const letters = [...p].flatMap((ch, i) => (/[a-z]/i.test(ch) && !/%[0-9a-f]?$/i.test(p.slice(Math.max(0, i - 2), i)) ? [i] : []));
    const i = letters[pick(letters.length)];
    if (i === undefined) return p;
    const ch = p[i] as string;
    return at(p, i, ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());
  }],
  ['trailing-slash', (p) => (p.endsWith('/') ? p + '/' : p + '/')],
  // double one slash
  ['duplicate-slash', (p, pick) => {
    const { slashes } = positions(p);
    const i = slashes[pick(slashes.length)];
    return i === undefined ? p : at(p, i, '//');
  }],
  // `/./` or `/x/../` (raw or encoded dots) at one slash
  ['dot-segment', (p, pick) => {
    const { slashes } = positions(p);
    const i = slashes[pick(slashes.length)];
    if (i === undefined) return p;
    const dot = ['.', '%2e', '%2E'][pick(3)] as string;
    return at(p, i, pick(2) === 0 ? `/${dot}/` : `/x/${dot}${['.', '%2e', '%2E'][pick(3)] as string}/`);
  }],
  // `;param` after one segment (routers that strip matrix parameters route it)
  ['matrix', (p, pick) => {
    const { slashes } = positions(p);
    const ends = [...slashes.slice(1), p.length];
    const i = ends[pick(ends.length)] as number;
    return p.slice(0, i) + [';', ';v=1', ';jsessionid=x'][pick(3)] + p.slice(i);
  }],
  // one separator written `%2F` / `%2f` (or `%5C`)
  ['encoded-slash', (p, pick) => {
    const { slashes } = positions(p);
    const inner = slashes.slice(1);
    const i = inner[pick(inner.length)];
    return i === undefined ? p : at(p, i, ['%2F', '%2f', '%5C'][pick(3)] as string);
  }],
  // one character encoded twice (`%2561`)
  ['double-encoded', (p, pick) => {
    const { chars } = positions(p);
    const i = chars[pick(chars.length)];
    return i === undefined || p[i] === '%' ? p : at(p, i, `%25${hex(p[i] as string, false).slice(1)}`);
  }],
];

/**
 * Spellings of a path that some router may send to the same route: the path
 * itself, then each single change at every position it applies to, then
 * seeded random combinations of several changes. The changes: percent-encode
 * any character (upper- or lower-case hex), change the case of a letter,
 * add a trailing slash, double a slash, add a dot segment (`/./`,
 * `/x/../`, raw or `%2e`), add a `;` matrix parameter, encode a separator
 * (`%2F`, `%2f`, `%5C`), encode a character twice (`%25xx`). The list is
 * free of duplicates; every entry starts with `/` and has no query.
 *
 * @param path A path of plain characters, such as `/guarded/projects/42/export`.
 *
 * @example
 * ```ts
 * import { pathVariants } from '@tenant/adapter-testkit';
 *
 * for (const { path, kind } of pathVariants('/chat')) {
 *   // '/chat' original, '/%63hat' encoded, '/Chat' case, '/chat/' trailing-slash, ...
 * }
 * ```
 */
export function pathVariants(path: string, options: PathVariantOptions = {}): PathVariant[] {
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#%]/.test(path)) {
    throw new TypeError('[@tenant/adapter-testkit] pathVariants takes a plain path starting with "/" (no query, no percent-encoding)');
  }
  const combinations = options.combinations ?? 60;
  const pick = seeded(options.seed ?? 1);
  const seen = new Set<string>([path]);
  const out: PathVariant[] = [{ path, kind: 'original' }];
  const add = (variant: string, kind: PathVariantKind): void => {
    if (!seen.has(variant)) {
      seen.add(variant);
      out.push({ path: variant, kind });
    }
  };
  const { slashes, chars } = positions(path);
  // Every single change at every position: each character encoded both ways, each letter's case.
  for (const i of chars) {
    const ch = path[i] as string;
    add(at(path, i, hex(ch, false)), 'encoded');
    add(at(path, i, hex(ch, true)), 'encoded');
    if (/[a-z]/i.test(ch)) add(at(path, i, ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()), 'case');
    add(at(path, i, `%25${hex(ch, false).slice(1)}`), 'double-encoded');
  }
  add(path.toUpperCase(), 'case');
  add(path + '/', 'trailing-slash');
  add(path + '//', 'trailing-slash');
  for (const i of slashes) {
    add(at(path, i, '//'), 'duplicate-slash');
    add(at(path, i, '/./'), 'dot-segment');
    add(at(path, i, '/x/../'), 'dot-segment');
    add(at(path, i, '/%2e/'), 'dot-segment');
    add(at(path, i, '/x/%2E%2e/'), 'dot-segment');
    if (i > 0) {
      add(at(path, i, '%2F'), 'encoded-slash');
      add(at(path, i, '%2f'), 'encoded-slash');
      add(at(path, i, '%5C'), 'encoded-slash');
      add(path.slice(0, i) + ';v=1' + path.slice(i), 'matrix');
    }
  }
  add(path + ';', 'matrix');
  add(path + ';jsessionid=x', 'matrix');
  // Random combinations of two to four changes, applied in turn.
  for (let n = 0, tries = 0; n < combinations && tries < combinations * 10; tries += 1) {
    let variant = path;
    const count = 2 + pick(3);
    for (let k = 0; k < count; k += 1) variant = (CHANGES[pick(CHANGES.length)] as (typeof CHANGES)[number])[1](variant, pick);
    if (!seen.has(variant)) {
      add(variant, 'combined');
      n += 1;
    }
  }
  return out;
}
