// The five GAN objectives on raw D outputs, the gradient penalties and one-sided label smoothing:
// the same formulas as gan_core.nn.losses (the parity test checks them against it).
import * as tf from "./tf.js";
import { constant } from "./constants.js";
import { discriminate } from "./models.js";

const mean = (t) => tf.mean(t);

function bceD(real, fake, smoothing) {
  const target = 1 - smoothing;
  const realTerm = smoothing
    ? tf.add(tf.mul(tf.softplus(tf.neg(real)), constant(target)), tf.mul(tf.softplus(real), constant(1 - target)))
    : tf.softplus(tf.neg(real));
  return tf.add(mean(realTerm), mean(tf.softplus(fake)));
}

const D_LOSSES = {
  minimax: bceD,
  nonsaturating: bceD,
  lsgan: (real, fake, smoothing) => tf.add(tf.mul(mean(tf.square(tf.sub(real, constant(1 - smoothing)))),
    constant(0.5)), tf.mul(mean(tf.square(fake)), constant(0.5))),
  hinge: (real, fake) => tf.add(mean(tf.relu(tf.sub(constant(1), real))), mean(tf.relu(tf.add(constant(1), fake)))),
  "wgan-gp": (real, fake) => tf.sub(mean(fake), mean(real)),
};

const G_LOSSES = {
  minimax: (fake) => tf.neg(mean(tf.softplus(fake))),
  nonsaturating: (fake) => mean(tf.softplus(tf.neg(fake))),
  lsgan: (fake) => tf.mul(mean(tf.square(tf.sub(fake, constant(1)))), constant(0.5)),
  hinge: (fake) => tf.neg(mean(fake)),
  "wgan-gp": (fake) => tf.neg(mean(fake)),
};

export const LOSS_NAMES = Object.keys(D_LOSSES);

/** D's loss on its raw scores of real and fake points (smoothing: the real target is 1 - smoothing). */
export function dLoss(name, realScores, fakeScores, smoothing) {
  return D_LOSSES[name](realScores, fakeScores, smoothing);
}

/** G's loss on D's raw scores of fake points. */
export function gLoss(name, fakeScores) {
  return G_LOSSES[name](fakeScores);
}

/** d(sum D(x))/dx at each point, kept differentiable (so the penalty's own gradient reaches D's weights). */
function inputGradient(D, x, slope) {
  return tf.grad((input) => tf.sum(discriminate(D, input, slope, true)))(x);
}

/** WGAN-GP: mean over points of (||grad D(x_hat)|| - 1)^2, x_hat = alpha*real + (1-alpha)*fake. alpha: [N, 1]. */
export function gradientPenalty(D, real, fake, alpha, slope) {
  const xHat = tf.add(tf.mul(alpha, real), tf.mul(tf.sub(constant(1), alpha), fake));
  const grad = inputGradient(D, xHat, slope);
  const norm = tf.sqrt(tf.sum(tf.square(grad), 1));
  return mean(tf.square(tf.sub(norm, constant(1))));
}

/** R1: mean over real points of ||grad D(x)||^2 (the step adds gamma/2 times it). */
export function r1Penalty(D, real, slope) {
  const grad = inputGradient(D, real, slope);
  return mean(tf.sum(tf.square(grad), 1));
}
