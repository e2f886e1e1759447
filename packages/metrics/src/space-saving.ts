/**
 * The Space-Saving summary (Metwally, Agrawal, El Abbadi, 2005): estimates
 * the most frequent items of a stream in a fixed number of counters. An item
 * not tracked takes the place of the least counted one, inheriting its count
 * as `error`, so `count - error` is a guaranteed lower bound of its true
 * frequency. The counters live in an indexed min-heap: O(log capacity) per
 * observation, memory bounded by `capacity` whatever the number of items.
 */
export class SpaceSaving {
  readonly #capacity: number;
  readonly #ids: string[] = [];
  readonly #counts: number[] = [];
  readonly #errors: number[] = [];
  readonly #index = new Map<string, number>();
  /** Told of every item pushed out of the summary. */
  onEvict: ((id: string) => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** How many items are tracked. */
  get size(): number {
    return this.#ids.length;
  }

  /** Counts one occurrence of `id`. */
  add(id: string): void {
    const at = this.#index.get(id);
    if (at !== undefined) {
      this.#counts[at]! += 1;
      this.#down(at);
      return;
    }
    if (this.#ids.length < this.#capacity) {
      const end = this.#ids.length;
      this.#ids.push(id);
      this.#counts.push(1);
      this.#errors.push(0);
      this.#index.set(id, end);
      this.#up(end);
      return;
    }
    // Replace the least counted item (the heap's root).
    const evicted = this.#ids[0]!;
    const min = this.#counts[0]!;
    this.#index.delete(evicted);
    this.#ids[0] = id;
    this.#counts[0] = min + 1;
    this.#errors[0] = min;
    this.#index.set(id, 0);
    this.#down(0);
    this.onEvict?.(evicted);
  }

  /** The estimated count of `id` (an upper bound), 0 when not tracked. */
  count(id: string): number {
    const at = this.#index.get(id);
    return at === undefined ? 0 : this.#counts[at]!;
  }

  /** The guaranteed count of `id` (a lower bound), 0 when not tracked. */
  guaranteed(id: string): number {
    const at = this.#index.get(id);
    return at === undefined ? 0 : this.#counts[at]! - this.#errors[at]!;
  }

  /**
   * Halves every count and error (rounding down), so that old activity
   * weighs less than recent activity. The heap order is kept (halving is
   * monotonic), so this is one pass over the counters.
   */
  halve(): void {
    for (let i = 0; i < this.#counts.length; i++) {
      this.#counts[i] = Math.floor(this.#counts[i]! / 2);
      this.#errors[i] = Math.floor(this.#errors[i]! / 2);
    }
  }

  /** Forgets `id`. */
  delete(id: string): void {
    const at = this.#index.get(id);
    if (at === undefined) return;
    this.#index.delete(id);
    const last = this.#ids.length - 1;
    if (at !== last) {
      this.#move(last, at);
      this.#ids.length = last;
      this.#counts.length = last;
      this.#errors.length = last;
      this.#down(at);
      this.#up(at);
    } else {
      this.#ids.length = last;
      this.#counts.length = last;
      this.#errors.length = last;
    }
  }

  #move(from: number, to: number): void {
    const id = this.#ids[from]!;
    this.#ids[to] = id;
    this.#counts[to] = this.#counts[from]!;
    this.#errors[to] = this.#errors[from]!;
    this.#index.set(id, to);
  }

  #swap(a: number, b: number): void {
    const id = this.#ids[a]!;
    const count = this.#counts[a]!;
    const error = this.#errors[a]!;
    this.#move(b, a);
    this.#ids[b] = id;
    this.#counts[b] = count;
    this.#errors[b] = error;
    this.#index.set(id, b);
  }

  #up(at: number): void {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#counts[parent]! <= this.#counts[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(at: number): void {
    const size = this.#ids.length;
    let i = at;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && this.#counts[right]! < this.#counts[left]! ? right : left;
      if (this.#counts[i]! <= this.#counts[child]!) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
