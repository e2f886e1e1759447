import { TenantError } from '@tenant/interfaces';
import { currentTenantId } from '@tenant/core';

/** Options of {@link createShardRouter}. */
export interface ShardRouterOptions<S> {
  /** The shards by name (Kysely instances, pools, URLs: anything). Names are hashed, so keep them stable. */
  readonly shards: Readonly<Record<string, S>>;
  /** Points per shard on the hash ring: more spreads tenants more evenly. @default 160 */
  readonly virtualNodes?: number;
  /** Tenants pinned to a shard, whatever the hash says (for moves in progress, or a big tenant on its own shard). */
  readonly pins?: Readonly<Record<string, string>>;
}

/** Maps tenants to shards, made by {@link createShardRouter}. */
export interface ShardRouter<S> {
  /** The shard names, sorted. */
  readonly shardNames: readonly string[];
  /** The name of the tenant's shard: its pin, or its place on the ring. */
  shardFor(tenantId: string): string;
  /** The tenant's shard; `tenantId` defaults to the tenant in context. */
  shard(tenantId?: string): S;
  /** Pins a tenant to a shard. */
  pin(tenantId: string, shardName: string): void;
  /** Removes a tenant's pin. */
  unpin(tenantId: string): void;
}

/** A 32-bit hash of a string: FNV-1a over its UTF-16 code units, then murmur3's finalizer for avalanche. Stable across versions: changing it would move tenants. */
function point(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Routes tenants to one of N shards by consistent hashing (a ring of
 * `virtualNodes` points per shard), with per-tenant pins. Adding a shard
 * moves about 1/N of the tenants, all of them to the new shard; use
 * {@link planShardMoves} to list them before switching routers.
 *
 * @example
 * ```ts
 * import { createShardRouter } from '@tenant/store-sql';
 *
 * const router = createShardRouter({ shards: { eu1: dbEu1, eu2: dbEu2 }, pins: { bigcorp: 'eu2' } });
 * const orders = await router.shard('acme').selectFrom('orders').selectAll().execute();
 * ```
 */
export function createShardRouter<S>(options: ShardRouterOptions<S>): ShardRouter<S> {
  const names = Object.keys(options.shards ?? {}).sort();
  if (names.length === 0) throw new TypeError('[@tenant/store-sql] createShardRouter needs at least one shard');
  const virtualNodes = options.virtualNodes ?? 160;
  if (!Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > 10_000) {
    throw new RangeError('[@tenant/store-sql] virtualNodes must be an integer from 1 to 10000');
  }
  const ring: { point: number; shard: string }[] = [];
  for (const shard of names) for (let i = 0; i < virtualNodes; i += 1) ring.push({ point: point(`${shard}#${i}`), shard });
  ring.sort((a, b) => a.point - b.point || (a.shard < b.shard ? -1 : 1));
  const points = Uint32Array.from(ring, (r) => r.point);
  const pins = new Map<string, string>();
  const checkShard = (name: string) => {
    if (!Object.prototype.hasOwnProperty.call(options.shards, name)) throw new RangeError(`[@tenant/store-sql] Unknown shard ${String(name)}`);
    return name;
  };
  for (const [tenantId, shard] of Object.entries(options.pins ?? {})) pins.set(tenantId, checkShard(shard));

  const shardFor = (tenantId: string): string => {
    if (typeof tenantId !== 'string' || tenantId.length === 0) throw new TenantError('tenant_invalid', '[@tenant/store-sql] A shard lookup needs a tenant id');
    const pinned = pins.get(tenantId);
    if (pinned !== undefined) return pinned;
    const p = point(tenantId);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < p) lo = mid + 1;
      else hi = mid;
    }
    return (ring[lo === ring.length ? 0 : lo] as { shard: string }).shard;
  };

  return {
    shardNames: Object.freeze(names),
    shardFor,
    shard(tenantId) {
      const id = tenantId ?? currentTenantId();
      if (id === undefined) throw new TenantError('tenant_context_missing', '[@tenant/store-sql] No tenant id given and no tenant in context');
      return options.shards[shardFor(id)] as S;
    },
    pin(tenantId, shardName) {
      pins.set(tenantId, checkShard(shardName));
    },
    unpin(tenantId) {
      pins.delete(tenantId);
    },
  };
}

/** One tenant that changes shard between two routers. */
export interface ShardMove {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
}

/**
 * The tenants whose shard differs between two routers (for example before
 * and after adding a shard): copy their data, pin them to the old shard
 * until it is copied, then switch routers and unpin.
 */
export function planShardMoves(before: ShardRouter<unknown>, after: ShardRouter<unknown>, tenantIds: Iterable<string>): ShardMove[] {
  const moves: ShardMove[] = [];
  for (const tenantId of tenantIds) {
    const from = before.shardFor(tenantId);
    const to = after.shardFor(tenantId);
    if (from !== to) moves.push({ tenantId, from, to });
  }
  return moves;
}
