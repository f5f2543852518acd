// The tabled densification probes of minhash.signature give bit for bit the signatures of the probe sequence
// computed attempt by attempt (the definition), for few and many filled bins and for a K above the table limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmix32, signature } from '../../src/engine/reasons/minhash';
import { rng } from './helpers';

/** signature() as defined: each empty bin probes fmix32((i + 1) * 0x9e3779b1 ^ t * 0x27d4eb2f) mod K, t = 1, 2, ... */
function reference(shingles: Uint32Array, K: number): Uint32Array {
  const sig = new Uint32Array(K);
  const filled = new Uint8Array(K);
  for (const h of shingles) {
    const bin = Math.floor((h / 4294967296) * K);
    if (!filled[bin] || h < sig[bin]) {
      sig[bin] = h;
      filled[bin] = 1;
    }
  }
  const original = Uint32Array.from(sig);
  for (let i = 0; i < K; i++) {
    if (filled[i]) continue;
    let j = -1;
    for (let attempt = 1; attempt <= 8 * K && j < 0; attempt++) {
      const c = fmix32(Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(attempt, 0x27d4eb2f)) % K;
      if (filled[c]) j = c;
    }
    for (let t = 1; j < 0; t++) if (filled[(i + t) % K]) j = (i + t) % K;
    sig[i] = original[j];
  }
  return sig;
}

test('tabled densification probes equal the probe sequence computed attempt by attempt', () => {
  const rand = rng(7);
  for (const K of [256, 64, 2048]) {
    for (const size of [1, 2, 3, 8, 40, 300, 5000]) {
      const shingles = Uint32Array.from({ length: size }, () => Math.floor(rand() * 2 ** 32));
      assert.deepEqual(signature(shingles, K), reference(shingles, K), `K ${K}, ${size} shingles`);
    }
  }
  // All shingles in one bin: every other bin borrows it.
  const one = Uint32Array.from([5, 9, 17]);
  assert.deepEqual(signature(one, 256), reference(one, 256));
  assert.ok(signature(one, 256)!.every((v) => v === 5));
});
