// Seeded random numbers for the engine: the same seed gives the same run (weights, batches, z).

/** A uniform [0, 1) generator (mulberry32) from a 32-bit integer seed. */
export function makeRng(seed) {
  let state = (Number(seed) >>> 0) ^ 0x9e3779b9;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = null;
  /** A standard normal draw (Box-Muller, the second value kept for the next call). */
  const normal = () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u = 1 - uniform();
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

/** n standard normal values in a Float32Array. */
export function normals(rng, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) out[i] = rng.normal();
  return out;
}

/** n uniform [0, 1) values in a Float32Array. */
export function uniforms(rng, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) out[i] = rng.uniform();
  return out;
}
