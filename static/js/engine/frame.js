// One frame of the playground, computed from the current weights in one readback: G(z) of a fixed z sample,
// minus the gradient of G's loss at each of those points (the arrows), D on the view's grid, and G on a grid
// of z (the manifold). The same views as gan_core.teach.toy_viz (generator_gradients, decision_surface,
// generator_manifold).
import * as tf from "./tf.js";
import { gLoss } from "./losses.js";
import { discriminate, generate } from "./models.js";

/** The view's grid points, row i at y = ys[i], column j at x = xs[j] (as decision_surface's meshgrid). */
export function gridPoints(extent, n) {
  const out = new Float32Array(2 * n * n);
  const at = (k) => -extent + (2 * extent * k) / (n - 1);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      out[2 * (i * n + j)] = at(j);
      out[2 * (i * n + j) + 1] = at(i);
    }
  }
  return out;
}

/** The manifold's z: an n x n grid over [-extent, extent] in the first two z dims (z_dim 1: the first only). */
export function manifoldZ(zDim, extent, n) {
  const grid = gridPoints(extent, n);
  if (zDim === 2) return grid;
  const out = new Float32Array(n * n * zDim);
  for (let k = 0; k < n * n; k += 1) out[k * zDim] = grid[2 * k];
  return out;
}

/**
 * Computes the frame's arrays; one readback for all of them (and the given scalar tensors).
 * fixedZ: tensor [M, z_dim]; grid: tensor [G*G, 2]; manifoldZ: tensor [K*K, z_dim].
 * Returns {fake, arrows, surface, manifold} Float32Arrays and `scalars`, the scalars' values.
 */
export async function computeFrame(run, fixedZ, grid, manifoldZTensor, probability, scalars = []) {
  const { G, D, config, slope } = run;
  const m = fixedZ.shape[0];
  const gridSize = grid.shape[0];
  const packed = tf.tidy(() => {
    const fake = generate(G, fixedZ);
    // Summed over points, so each arrow is that point's own gradient (as generator_gradients).
    const grad = tf.grad((x) => tf.mul(gLoss(config.loss, discriminate(D, x, slope)), m))(fake);
    const scores = discriminate(D, grid, slope);
    const surface = probability ? tf.sigmoid(scores) : scores;
    const manifold = generate(G, manifoldZTensor);
    return tf.concat([tf.reshape(fake, [-1]), tf.reshape(tf.neg(grad), [-1]), surface, tf.reshape(manifold, [-1]),
      ...scalars.map((t) => tf.reshape(t, [1]))]);
  });
  const data = await packed.data();
  packed.dispose();
  let offset = 0;
  const take = (n) => {
    const part = data.slice(offset, offset + n);
    offset += n;
    return part;
  };
  return { fake: take(2 * m), arrows: take(2 * m), surface: take(gridSize), manifold: take(2 * manifoldZTensor.shape[0]),
    scalars: Array.from(take(scalars.length)) };
}
