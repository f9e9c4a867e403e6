// Adam and plain SGD with torch.optim's arithmetic (Adam: bias-corrected, eps added to sqrt(v_hat), eps from
// the spec = torch's default), one optimiser per network, each with its own lr and beta1.
import * as tf from "./tf.js";

/** An optimiser over `variables`: kind "adam" or "sgd"; settings {lr, beta1, beta2, eps} may change live. */
export function makeOptimizer(kind, variables, settings) {
  const state = { kind, variables, settings: { ...settings }, step: 0, m: null, v: null };
  if (kind === "adam") {
    state.m = variables.map((p) => tf.keep(tf.zerosLike(p)));
    state.v = variables.map((p) => tf.keep(tf.zerosLike(p)));
  }
  return state;
}

/** One update from `grads` (in the order of the optimiser's variables). */
export function applyGradients(opt, grads) {
  const { lr, beta1, beta2, eps } = opt.settings;
  opt.step += 1;
  if (opt.kind === "sgd") {
    tf.tidy(() => opt.variables.forEach((p, i) => p.assign(tf.sub(p, tf.mul(grads[i], lr)))));
    return;
  }
  const bias1 = 1 - beta1 ** opt.step;
  const bias2Root = Math.sqrt(1 - beta2 ** opt.step);
  const stepSize = lr / bias1;
  opt.variables.forEach((p, i) => {
    // kept: the moments outlive the caller's tidy scope
    const [m, v] = tf.tidy(() => [
      tf.keep(tf.add(tf.mul(opt.m[i], beta1), tf.mul(grads[i], 1 - beta1))),
      tf.keep(tf.add(tf.mul(opt.v[i], beta2), tf.mul(tf.square(grads[i]), 1 - beta2))),
    ]);
    tf.tidy(() => {
      const denom = tf.add(tf.div(tf.sqrt(v), bias2Root), eps);
      p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
    });
    opt.m[i].dispose();
    opt.v[i].dispose();
    opt.m[i] = m;
    opt.v[i] = v;
  });
}

export function disposeOptimizer(opt) {
  if (!opt) return;
  [...(opt.m || []), ...(opt.v || [])].forEach((t) => t.dispose());
}
