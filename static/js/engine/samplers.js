// The built-in 2-D datasets, sampled with gan_core.data.datasets' parameters (the spec's `datasets`), and the
// student's drawn points (sampled with replacement plus the spec's small jitter).

function sampleRing(p, n, rng, out) {
  for (let i = 0; i < n; i += 1) {
    const k = Math.floor(rng.uniform() * p.modes);
    const angle = k * (2 * Math.PI / p.modes);
    out[2 * i] = p.radius * Math.cos(angle) + p.std * rng.normal();
    out[2 * i + 1] = p.radius * Math.sin(angle) + p.std * rng.normal();
  }
}

function sampleGrid(p, n, rng, out) {
  const side = Math.round((p.high - p.low) / p.spacing) + 1;
  for (let i = 0; i < n; i += 1) {
    const k = Math.floor(rng.uniform() * side * side);
    out[2 * i] = p.low + p.spacing * Math.floor(k / side) + p.std * rng.normal();
    out[2 * i + 1] = p.low + p.spacing * (k % side) + p.std * rng.normal();
  }
}

function sampleSpiral(p, n, rng, out) {
  for (let i = 0; i < n; i += 1) {
    const t = Math.sqrt(rng.uniform()) * p.turn;
    out[2 * i] = t * Math.cos(t) * p.scale + p.noise * rng.normal();
    out[2 * i + 1] = t * Math.sin(t) * p.scale + p.noise * rng.normal();
  }
}

function sampleMoons(p, n, rng, out) {
  for (let i = 0; i < n; i += 1) {
    const upper = rng.uniform() < 0.5;
    const t = rng.uniform() * Math.PI;
    const x = upper ? Math.cos(t) : 1 - Math.cos(t);
    const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    out[2 * i] = (x - p.shift[0]) * p.scale + p.noise * rng.normal();
    out[2 * i + 1] = (y - p.shift[1]) * p.scale + p.noise * rng.normal();
  }
}

const SAMPLERS = { ring: sampleRing, grid: sampleGrid, spiral: sampleSpiral, moons: sampleMoons };

/** n points (x0, y0, x1, y1, ...) of a built-in dataset, from its spec entry's sampler parameters. */
export function sampleDataset(entry, n, rng) {
  const out = new Float32Array(2 * n);
  const sample = SAMPLERS[entry.sampler.kind];
  if (!sample) throw new Error(`unknown sampler kind ${entry.sampler.kind}`);
  sample(entry.sampler, n, rng, out);
  return out;
}

/** n points drawn with replacement from the student's points, each moved by N(0, jitter^2). */
export function sampleDrawn(points, jitter, n, rng) {
  const count = points.length / 2;
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i += 1) {
    const k = Math.floor(rng.uniform() * count);
    out[2 * i] = points[2 * k] + jitter * rng.normal();
    out[2 * i + 1] = points[2 * k + 1] + jitter * rng.normal();
  }
  return out;
}
