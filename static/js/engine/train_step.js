// One discriminator update and one generator update, as gan_core.train.trainer.Trainer.d_step / g_step:
// D on real and G(z) (G not updated), plus the WGAN-GP or R1 penalty; then G against the frozen D.
import * as tf from "./tf.js";
import { dLoss, gLoss, gradientPenalty, r1Penalty } from "./losses.js";
import { discriminate, generate, netVariables } from "./models.js";
import { applyGradients } from "./optimizers.js";
import { constant } from "./constants.js";

/**
 * One D update. `real` [N, 2], `z` [N, z_dim] and `alpha` [N, 1] (the penalty's mixing weights) are tensors.
 * Returns {dLoss, realScore, fakeScore} as kept scalar tensors (the caller disposes them): no readback here.
 */
export function dStep(run, real, z, alpha) {
  const { G, D, config, slope, lossInfo } = run;
  const variables = netVariables(D);
  const out = {};
  tf.tidy(() => {
    const fake = generate(G, z);
    const { value, grads } = tf.variableGrads(() => {
      // real and fake through D in one batch, as the Trainer does (D has no batch statistics: exact)
      const scores = discriminate(D, tf.concat([real, fake]), slope);
      const n = real.shape[0];
      const realScores = tf.slice(scores, 0, n);
      const fakeScores = tf.slice(scores, n, fake.shape[0]);
      // D(x) averaged (a probability) for the logistic losses, else the mean critic score
      const shown = (scores) => tf.mean(lossInfo.probability ? tf.sigmoid(scores) : scores);
      out.realScore = tf.keep(shown(realScores));
      out.fakeScore = tf.keep(shown(fakeScores));
      let loss = dLoss(config.loss, realScores, fakeScores, config.label_smoothing);
      if (lossInfo.gradient_penalty) {
        loss = tf.add(loss, tf.mul(gradientPenalty(D, real, fake, alpha, slope), constant(config.gp_weight)));
      }
      if (config.r1_gamma) loss = tf.add(loss, tf.mul(r1Penalty(D, real, slope), constant(0.5 * config.r1_gamma)));
      return loss;
    }, variables);
    out.dLoss = tf.keep(value);
    applyGradients(run.optD, variables.map((v) => grads[v.name]));
  });
  return out;
}

/** One G update on G(z) against the frozen D. Returns {gLoss} as a kept scalar tensor. */
export function gStep(run, z) {
  const { G, D, config, slope } = run;
  const variables = netVariables(G);
  const out = {};
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => gLoss(config.loss, discriminate(D, generate(G, z), slope)), variables);
    out.gLoss = tf.keep(value);
    applyGradients(run.optG, variables.map((v) => grads[v.name]));
  });
  return out;
}
