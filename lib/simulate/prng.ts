/**
 * A small seeded pseudo-random generator, hand-written on purpose: `Math.random()` cannot be seeded,
 * and a library's generator may change between versions. A synthetic cohort must be the same cohort
 * for the same seed on every machine and every release, so the algorithm is fixed here: a string hash
 * (cyrb53-style mixing) turns "seed + what for" into a 32-bit state, and mulberry32 draws from it.
 * Neither is cryptographic; both are well known, fast and good enough for a simulation.
 *
 * Each plan and each provider decision gets its own stream (`Rng.for(seed, 'plan', 7)`), so what one
 * plan draws never depends on how many draws another made, or on the order concurrent requests ran.
 */

/** 32-bit hash of a string: cyrb53's mixing, folded to 32 bits. */
export function hash32(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/** mulberry32: one 32-bit state, a float in [0, 1) per call. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A stream of its own for one purpose: the same seed and labels always give the same stream. */
  static for(seed: string | number, ...labels: (string | number)[]): Rng {
    return new Rng(hash32([String(seed), ...labels.map(String)].join('\u241f')));
  }

  float(): number {
    return this.next();
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A whole number from min to max, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One key of a table of weights (weights need not add up to anything in particular). */
  weighted<K extends string>(weights: Readonly<Partial<Record<K, number>>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let at = this.next() * total;
    for (const [key, w] of entries) {
      at -= w;
      if (at < 0) return key;
    }
    return (entries.at(-1) as [K, number])[0];
  }

  /** Roughly normal (sum of three uniforms), clamped to [min, max]. */
  around(mean: number, spread: number, min = -Infinity, max = Infinity): number {
    const u = (this.next() + this.next() + this.next()) / 3 - 0.5;
    return Math.min(max, Math.max(min, mean + u * 2 * spread));
  }
}
