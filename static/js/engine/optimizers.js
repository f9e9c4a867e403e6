// Adam and plain SGD with torch.optim's arithmetic (Adam: bias-corrected, eps added to sqrt(v) / sqrt(1 - b2^t),
// eps from the spec = torch's default), one optimiser per network, each with its own lr and beta1. The update
// runs on all of a network's parameters at once (one flat vector), so a step costs a few dozen ops, not hundreds.
import * as tf from "./tf.js";
import { constant } from "./constants.js";

/** An optimiser over `variables`: kind "adam" or "sgd"; settings {lr, beta1, beta2, eps} may change live. */
export function makeOptimizer(kind, variables, settings) {
  const size = variables.reduce((n, p) => n + p.size, 0);
  const state = { kind, variables, settings: { ...settings }, step: 0, m: null, v: null };
  if (kind === "adam") {
    state.m = tf.keep(tf.zeros([size]));
    state.v = tf.keep(tf.zeros([size]));
  }
  return state;
}

function assignFlat(variables, delta) {
  const pieces = tf.split(delta, variables.map((p) => p.size));
  variables.forEach((p, i) => p.assign(tf.sub(p, tf.reshape(pieces[i], p.shape))));
}

/** One update from `grads` (in the order of the optimiser's variables). */
export function applyGradients(opt, grads) {
  const { lr, beta1, beta2, eps } = opt.settings;
  opt.step += 1;
  if (opt.kind === "sgd") {
    tf.tidy(() => assignFlat(opt.variables, tf.mul(tf.concat(grads.map((g) => tf.reshape(g, [-1]))), lr)));
    return;
  }
  const bias1 = 1 - beta1 ** opt.step;
  const bias2Root = Math.sqrt(1 - beta2 ** opt.step);
  const [m, v] = tf.tidy(() => {
    const g = tf.concat(grads.map((t) => tf.reshape(t, [-1])));
    // kept: the moments outlive the caller's tidy scope
    return [tf.keep(tf.add(tf.mul(opt.m, constant(beta1)), tf.mul(g, constant(1 - beta1)))),
      tf.keep(tf.add(tf.mul(opt.v, constant(beta2)), tf.mul(tf.square(g), constant(1 - beta2))))];
  });
  tf.tidy(() => {
    const denom = tf.add(tf.div(tf.sqrt(v), bias2Root), constant(eps));
    assignFlat(opt.variables, tf.mul(tf.div(m, denom), lr / bias1));
  });
  opt.m.dispose();
  opt.v.dispose();
  opt.m = m;
  opt.v = v;
}

export function disposeOptimizer(opt) {
  if (!opt) return;
  tf.dispose([opt.m, opt.v].filter(Boolean));
}
