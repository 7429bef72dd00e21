/**
 * A persistent map by *rerooting* (Baker's trick; Conchon & Filliâtre, "A Persistent Union-Find Data
 * Structure", 2007): every version is immutable to its holders, yet the newest version costs what a plain
 * `Map` costs.
 *
 * Why: projections are pure folds (`evolve(state, event) → state`), so a state handed out must never change
 * under its holder. Copying a million-proof map per event is out of the question, and a HAMT costs several
 * times the memory of a `Map` (the proof projection must hold 1M proofs within 1 GiB). Rerooting keeps one
 * shared `Map` at the newest version; each older version is a one-entry *diff* pointing to the next newer
 * one. Reading an old version moves the shared `Map` back to it (undoing the diffs on the way, and turning
 * the newer versions into diffs), so every version stays correct; a fold that only ever moves forward never
 * pays for that. Old versions nobody holds are garbage: newer versions do not reference older ones.
 *
 * The price: an old version keeps alive every newer version's diff up to the root, so whoever holds an old
 * version for long holds memory in proportion to the updates made since. That is why the empty map is a
 * shared, never-changing template (`set` on it starts a new lineage instead of turning it into a diff): the
 * `initial` state of every projection is one, and a module-level constant must not anchor a whole history.
 *
 * Values must not be `undefined` (it means "absent"). Iteration order is unspecified: callers that need a
 * deterministic order sort (serialisation does).
 *
 * @module
 */

const ABSENT: unique symbol = Symbol("absent")
type Slot<V> = V | typeof ABSENT

/** Batched changes to one version: reads see the writes made so far. Only valid inside `PMap.edit`. */
export interface PMapEditor<K, V> {
  get(key: K): V | undefined
  has(key: K): boolean
  set(key: K, value: V): void
  delete(key: K): void
}

/**
 * An editor left open across many changes — a batch fold keeps one per map for a whole page of events —
 * until `commit` turns the changes into one new version. Until then nothing else may touch that map's
 * versions (it is the same shared `Map`), and after `commit` the editor must not be used.
 */
export interface PMapTransaction<K, V> extends PMapEditor<K, V> {
  /** The version with every change made (the version begun from when there were none). */
  commit(): PMap<K, V>
}

class Editor<K, V> implements PMapTransaction<K, V> {
  readonly keys: K[] = []
  readonly olds: Array<Slot<V>> = []
  private touched: Set<K> | undefined = undefined
  private done = false
  constructor(
    private readonly map: Map<K, V>,
    private readonly close: (map: Map<K, V>, keys: K[], olds: Array<Slot<V>>) => PMap<K, V>,
  ) {}
  commit(): PMap<K, V> {
    if (this.done) throw new Error("PMap transaction committed twice")
    this.done = true
    return this.close(this.map, this.keys, this.olds)
  }
  get(key: K): V | undefined {
    return this.map.get(key)
  }
  has(key: K): boolean {
    return this.map.has(key)
  }
  /** Records the value before the first change of `key` in this edit. */
  private touch(key: K, old: V | undefined): void {
    if (this.touched === undefined) {
      if (!this.keys.includes(key)) {
        this.keys.push(key)
        this.olds.push(old === undefined ? ABSENT : old)
        if (this.keys.length > 16) this.touched = new Set(this.keys)
      }
    } else if (!this.touched.has(key)) {
      this.touched.add(key)
      this.keys.push(key)
      this.olds.push(old === undefined ? ABSENT : old)
    }
  }
  set(key: K, value: V): void {
    const old = this.map.get(key)
    if (old === value) return
    this.touch(key, old)
    this.map.set(key, value)
  }
  delete(key: K): void {
    const old = this.map.get(key)
    if (old === undefined) return
    this.touch(key, old)
    this.map.delete(key)
  }
}

/** An immutable map; `set`/`delete`/`edit` return a new version and leave this one as it was. */
export class PMap<K, V> {
  // A version is either the root (it holds `m`) or a diff: "I am `n` with keys `ks` set to `vs` (or absent)".
  // The keys of one diff are distinct, so a diff can be undone in any order.
  private m: Map<K, V> | undefined
  private ks: K[] | undefined
  private vs: Array<Slot<V>> | undefined
  private n: PMap<K, V> | undefined
  /** True only for the shared empty template, which never becomes a diff. */
  private readonly t: boolean

  private constructor(m: Map<K, V> | undefined, template = false) {
    this.m = m
    this.ks = undefined
    this.vs = undefined
    this.n = undefined
    this.t = template
  }

  // biome-ignore lint/suspicious/noExplicitAny: the template is empty, so it is every PMap<K, V>
  private static readonly EMPTY: PMap<any, any> = new PMap(new Map(), true)

  /** The empty map (a shared template: updating it starts a new, independent lineage). */
  static empty<K, V>(): PMap<K, V> {
    return PMap.EMPTY
  }

  /** A new map holding `entries` (later duplicates win). */
  static from<K, V>(entries: Iterable<readonly [K, V]>): PMap<K, V> {
    const m = new Map<K, V>()
    for (const [k, v] of entries) m.set(k, v)
    return m.size === 0 ? PMap.EMPTY : new PMap<K, V>(m)
  }

  /** Makes this version the root and returns its map. */
  private root(): Map<K, V> {
    if (this.m !== undefined) return this.m
    // Iterative: an old version may sit a long way behind the root.
    const path: Array<PMap<K, V>> = []
    let t: PMap<K, V> = this
    while (t.m === undefined) {
      path.push(t)
      t = t.n!
    }
    const map = t.m
    for (let i = path.length - 1; i >= 0; i--) {
      // `d` is a diff against the root `t`: apply it, and make `t` the inverse diff against `d`.
      const d = path[i]!
      const ks = d.ks!
      const vs = d.vs!
      for (let j = 0; j < ks.length; j++) {
        const key = ks[j] as K
        const cur = map.get(key)
        const value = vs[j] as Slot<V>
        if (value === ABSENT) map.delete(key)
        else map.set(key, value)
        vs[j] = cur === undefined ? ABSENT : cur
      }
      t.m = undefined
      t.ks = ks
      t.vs = vs
      t.n = d
      d.m = map
      d.ks = undefined
      d.vs = undefined
      d.n = undefined
      t = d
    }
    return map
  }

  /** Turns this (root) version into a diff against a new root holding `map`, and returns that root. */
  private advance(map: Map<K, V>, ks: K[], vs: Array<Slot<V>>): PMap<K, V> {
    const next = new PMap<K, V>(map)
    this.m = undefined
    this.ks = ks
    this.vs = vs
    this.n = next
    return next
  }

  /** The value at `key`, or undefined. */
  get(key: K): V | undefined {
    return this.root().get(key)
  }

  /** True when `key` has a value. */
  has(key: K): boolean {
    return this.root().has(key)
  }

  /** The number of entries. */
  get size(): number {
    return this.root().size
  }

  /** A version with `key` set to `value` (this version when it already holds that very value). */
  set(key: K, value: V): PMap<K, V> {
    if (this.t) return new PMap<K, V>(new Map([[key, value]]))
    const map = this.root()
    const old = map.get(key)
    if (old === value) return this
    map.set(key, value)
    return this.advance(map, [key], [old === undefined ? ABSENT : old])
  }

  /** A version without `key` (this version when the key is absent). */
  delete(key: K): PMap<K, V> {
    if (this.t) return this
    const map = this.root()
    const old = map.get(key)
    if (old === undefined) return this
    map.delete(key)
    return this.advance(map, [key], [old])
  }

  /**
   * A version with every change `f` makes (this version when it makes none): one new version for a batch
   * of changes, instead of one per change. `f` must not touch other versions of this map.
   */
  edit(f: (editor: PMapEditor<K, V>) => void): PMap<K, V> {
    const tx = this.begin()
    f(tx)
    return tx.commit()
  }

  /**
   * Opens a {@link PMapTransaction} on this version: like `edit`, but the changes may span many calls (one
   * new version per batch of events instead of one per event). Other versions of this map must not be
   * touched until it is committed.
   */
  begin(): PMapTransaction<K, V> {
    return new Editor<K, V>(this.t ? new Map<K, V>() : this.root(), (map, keys, olds) => {
      if (keys.length === 0) return this
      return this.t ? new PMap<K, V>(map) : this.advance(map, keys, olds)
    })
  }

  /** Calls `f` for every entry, in unspecified order. `f` must not touch other versions of this map. */
  forEach(f: (value: V, key: K) => void): void {
    this.root().forEach(f)
  }

  /** The entries as a new array, in unspecified order. */
  entries(): Array<[K, V]> {
    return Array.from(this.root())
  }

  /** The values as a new array, in unspecified order. */
  values(): Array<V> {
    return Array.from(this.root().values())
  }

  /** The entries sorted by key (string keys: code-unit order, as `<` compares them). */
  sorted(): Array<[K, V]> {
    return this.entries().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }
}
