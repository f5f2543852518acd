// The seeded uniform [0, 1) generator (mulberry32) of the fixture and example generators. Their committed outputs
// (test/fixtures/tiny-bert/, media/example/reviews.jsonl) depend on its exact sequence. (The engine's
// src/engine/random.ts seededRandom mixes the seed first, so its sequences differ.)
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
