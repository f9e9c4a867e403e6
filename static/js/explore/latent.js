// Latent arithmetic for the in-browser explorer, written to give the same float32 values as
// app_pages/explore/compute.py (torch): the same seed and sliders then give the same image either way.
// Every result is stored in a Float32Array, so each step is rounded to float32 as torch does.

export const f32 = Math.fround;

/** Rows of a flat k x n Float32Array. */
export function rows(flat, n) {
  const out = [];
  for (let i = 0; i + n <= flat.length; i += n) out.push(flat.subarray(i, i + n));
  return out;
}

/** compute.base_latent: the seed's z clamped to the slider range. */
export function baseLatent(raw, limit) {
  return raw.map((v) => Math.min(limit, Math.max(-limit, v)));
}

/** compute.current_latent then compute.effective_latent: psi * z, then moved along the directions. */
export function effectiveLatent(base, over, trunc, directions, amounts) {
  const z = Float32Array.from(base);
  for (const [dim, value] of Object.entries(over)) z[Number(dim)] = value;
  const psi = f32(trunc);
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = z[i] * psi;
  const ks = Object.keys(amounts).map(Number).sort((a, b) => a - b);
  for (const k of ks) {
    const a = amounts[k];
    if (!a || k < 0 || k >= directions.vectors.length) continue;
    const step = f32(f32(a) * directions.scales[k]);
    const v = directions.vectors[k];
    for (let i = 0; i < out.length; i++) out[i] = out[i] + f32(step * v[i]);
  }
  return out;
}

/** sample_latents(..., truncation): the seed's raw z times psi (not clamped), as the class grid uses. */
export function scaled(raw, trunc) {
  const psi = f32(trunc);
  return raw.map((v) => v * psi);
}

export function lerp(z0, z1, t) {
  return z0.map((a, i) => a + (z1[i] - a) * t);
}

/** gan_core.explore.latent.slerp: along the sphere, lerp when the two are nearly parallel. */
export function slerp(z0, z1, t, eps = 1e-7) {
  const norm = (z) => Math.max(Math.sqrt(z.reduce((s, v) => s + v * v, 0)), eps);
  const n0 = norm(z0), n1 = norm(z1);
  let dot = 0;
  for (let i = 0; i < z0.length; i++) dot += (z0[i] / n0) * (z1[i] / n1);
  const omega = Math.acos(Math.min(1 - eps, Math.max(-1 + eps, dot)));
  if (Math.abs(omega) < 1e-4) return lerp(z0, z1, t);
  const so = Math.sin(omega);
  const a = Math.sin((1 - t) * omega) / so, b = Math.sin(t * omega) / so;
  return z0.map((v, i) => a * v + b * z1[i]);
}

/** `steps` latents from z0 to z1 inclusive (lerp or slerp), like gan_core.explore.latent.interpolate. */
export function interpolate(z0, z1, steps, method) {
  const out = [];
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    out.push(method === "lerp" ? lerp(z0, z1, t) : slerp(z0, z1, t));
  }
  return out;
}

/** (1 - t) e_a + t e_b: the class embedding between two classes (gan_core.explore.class_blend). */
export function blendEmbedding(table, a, b, t) {
  const ea = table[a], eb = table[b];
  return ea.map((v, i) => (1 - t) * v + t * eb[i]);
}
