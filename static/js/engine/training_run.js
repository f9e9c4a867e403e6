// One browser training run: G, D, their optimisers, the data source and the counters, built from the spec
// (gan_core.teach.browser_spec) and a config with TrainConfig's field names. Used by the Web Worker
// (train_worker.js) and by the Node parity test.
import * as tf from "./tf.js";
import { computeFrame, gridPoints, manifoldZ } from "./frame.js";
import { buildNets, disposeNet, loadNetTensors, netTensors, netVariables } from "./models.js";
import { disposeOptimizer, makeOptimizer } from "./optimizers.js";
import { makeRng, normals, uniforms } from "./rng.js";
import { sampleDataset, sampleDrawn } from "./samplers.js";
import { modeCoverage } from "./coverage.js";
import { dStep, gStep } from "./train_step.js";

/** The changes `set` accepts while training (the rest need a reset). */
export const LIVE_FIELDS = ["lr_g", "lr_d", "loss", "beta1", "beta1_d", "beta2", "optimizer_g", "optimizer_d",
  "n_critic", "batch_size", "gp_weight", "r1_gamma", "label_smoothing"];

function checkConfig(spec, config) {
  const lim = spec.limits;
  const inRange = (name, [low, high], open) => {
    const v = config[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < low || v > high || (open && v === open(low, high))) {
      throw new Error(`${name} must be in [${low}, ${high}], got ${v}`);
    }
  };
  if (!spec.losses.some((l) => l.name === config.loss)) throw new Error(`unknown loss ${config.loss}`);
  for (const name of ["optimizer_g", "optimizer_d"]) {
    if (!spec.optimizers.includes(config[name])) throw new Error(`${name} must be one of ${spec.optimizers}`);
  }
  if (!spec.architecture.z_dims.includes(config.z_dim)) throw new Error(`z_dim must be one of ${spec.architecture.z_dims}`);
  for (const name of ["lr_g", "lr_d"]) {
    inRange(name, lim.lr, (low) => low);
  }
  for (const name of ["beta1", "beta1_d", "beta2"]) inRange(name, lim.beta, (low, high) => high);
  for (const name of ["batch_size", "n_critic", "toy_hidden", "toy_depth"]) {
    inRange(name, lim[name]);
    if (!Number.isInteger(config[name])) throw new Error(`${name} must be an integer, got ${config[name]}`);
  }
  for (const name of ["gp_weight", "r1_gamma", "label_smoothing"]) inRange(name, lim[name]);
}

export class TrainingRun {
  /** spec: browser_spec(); config: an engine config (browser_spec's `defaults` with changes); seed: integer. */
  constructor(spec, config, seed) {
    this.spec = spec;
    this.config = { ...spec.defaults, ...config };
    if (this.config.beta1_d === null || this.config.beta1_d === undefined) this.config.beta1_d = this.config.beta1;
    checkConfig(spec, this.config);
    this.slope = spec.architecture.leaky_slope;
    this.dataset = this.config.dataset;
    this.drawn = null;
    this.reset(seed);
  }

  get lossInfo() {
    return this.spec.losses.find((l) => l.name === this.config.loss);
  }

  /** Fresh weights and optimisers from `seed`, step 0. */
  reset(seed) {
    this.dispose();
    this.seed = seed >>> 0;
    this.rng = makeRng(this.seed);
    const { G, D } = buildNets(this.spec, this.config, this.rng);
    this.G = G;
    this.D = D;
    this.optG = this.makeOptimizer("g");
    this.optD = this.makeOptimizer("d");
    this.steps = 0;
    this.dInStep = 0; // D updates done in the step in progress
    this.dSteps = 0;
    this.gSteps = 0;
    this.last = {};
    const frame = this.spec.frame;
    const frameRng = makeRng(this.seed + 7919);
    this.fixedZ = tf.tensor2d(normals(frameRng, frame.points * this.config.z_dim), [frame.points, this.config.z_dim]);
    this.manifoldZ = tf.tensor2d(manifoldZ(this.config.z_dim, frame.manifold_extent, frame.manifold),
      [frame.manifold * frame.manifold, this.config.z_dim]);
    this.setGrid();
  }

  makeOptimizer(which) {
    const cfg = this.config;
    const net = which === "g" ? this.G : this.D;
    return makeOptimizer(which === "g" ? cfg.optimizer_g : cfg.optimizer_d, netVariables(net), {
      lr: which === "g" ? cfg.lr_g : cfg.lr_d,
      beta1: which === "g" ? cfg.beta1 : cfg.beta1_d,
      beta2: cfg.beta2,
      eps: this.spec.adam_eps,
    });
  }

  extent() {
    return this.drawn ? this.drawnExtent : this.spec.datasets[this.dataset].extent;
  }

  setGrid() {
    if (this.grid) this.grid.dispose();
    const n = this.spec.frame.grid;
    this.grid = tf.tensor2d(gridPoints(this.extent(), n), [n * n, 2]);
  }

  /** Live changes (TrainConfig names), applied before the next step; a new optimiser kind starts fresh. */
  set(changes) {
    const unknown = Object.keys(changes).filter((k) => !LIVE_FIELDS.includes(k));
    if (unknown.length) throw new Error(`cannot change ${unknown.join(", ")} while training`);
    const next = { ...this.config, ...changes };
    if ("loss" in changes && !("n_critic" in changes)) {
      next.n_critic = this.spec.losses.find((l) => l.name === changes.loss)?.default_n_critic ?? next.n_critic;
    }
    checkConfig(this.spec, next);
    const old = this.config;
    this.config = next;
    for (const which of ["g", "d"]) {
      const key = `optimizer_${which}`;
      const opt = which === "g" ? this.optG : this.optD;
      if (next[key] !== old[key]) {
        disposeOptimizer(opt);
        if (which === "g") this.optG = this.makeOptimizer("g");
        else this.optD = this.makeOptimizer("d");
      } else {
        opt.settings.lr = which === "g" ? next.lr_g : next.lr_d;
        opt.settings.beta1 = which === "g" ? next.beta1 : next.beta1_d;
        opt.settings.beta2 = next.beta2;
      }
    }
  }

  /** The real distribution: a built-in dataset by name, or the student's points (Float32Array x0, y0, ...) in a
   * view of half-width `extent` (default: the spec's drawn.extent). */
  setData({ dataset, points, extent }) {
    if (points) {
      if (points.length < 2 || points.length % 2) throw new Error("draw at least one point");
      if (!points.every(Number.isFinite)) throw new Error("the drawn points must be numbers");
      this.drawn = Float32Array.from(points);
      this.drawnExtent = extent > 0 ? extent : this.spec.drawn.extent;
    } else {
      if (!this.spec.datasets[dataset]) throw new Error(`unknown dataset ${dataset}`);
      this.dataset = dataset;
      this.drawn = null;
    }
    this.setGrid();
  }

  realBatch(n) {
    const data = this.drawn ? sampleDrawn(this.drawn, this.spec.drawn.jitter, n, this.rng)
      : sampleDataset(this.spec.datasets[this.dataset], n, this.rng);
    return tf.tensor2d(data, [n, 2]);
  }

  keepLast(values) {
    for (const [key, tensor] of Object.entries(values)) {
      if (this.last[key]) this.last[key].dispose();
      this.last[key] = tensor;
    }
  }

  /** One D update; real [N,2], z [N,z_dim], alpha [N] may be given as Float32Arrays (the parity test). */
  dStep(given = {}) {
    const n = given.real ? given.real.length / 2 : this.config.batch_size;
    const zDim = this.config.z_dim;
    const real = given.real ? tf.tensor2d(given.real, [n, 2]) : this.realBatch(n);
    const z = tf.tensor2d(given.z || normals(this.rng, n * zDim), [n, zDim]);
    const alpha = this.lossInfo.gradient_penalty ? tf.tensor2d(given.alpha || uniforms(this.rng, n), [n, 1]) : null;
    try {
      this.keepLast(dStep(this, real, z, alpha));
    } finally {
      tf.dispose([real, z, alpha].filter(Boolean));
    }
    this.dSteps += 1;
  }

  /** One G update on a fresh z (or the given one). */
  gStep(given = {}) {
    const n = given.z ? given.z.length / this.config.z_dim : this.config.batch_size;
    const z = tf.tensor2d(given.z || normals(this.rng, n * this.config.z_dim), [n, this.config.z_dim]);
    try {
      this.keepLast(gStep(this, z));
    } finally {
      z.dispose();
    }
    this.gSteps += 1;
  }

  /** A full step: n_critic D updates, then one G update (as Trainer.step). Finishes a step in progress. */
  step() {
    while (!this.advance());
  }

  /** One update of a full step (the next D update, or the G update that ends the step); true when the step
   * ended. The worker trains update by update, so a frame request never waits for more than one update. */
  advance() {
    if (this.dInStep < this.config.n_critic) {
      this.dStep();
      this.dInStep += 1;
      return false;
    }
    this.gStep();
    this.dInStep = 0;
    this.steps += 1;
    return true;
  }

  /** The frame's arrays, losses, scores and coverage, from the current weights. */
  async frame() {
    const probability = this.lossInfo.probability;
    const present = ["dLoss", "gLoss", "realScore", "fakeScore"].filter((k) => this.last[k]);
    const { scalars: values, ...out } = await computeFrame(this, this.fixedZ, this.grid, this.manifoldZ, probability,
      present.map((k) => this.last[k]));
    const read = (k) => (present.includes(k) ? values[present.indexOf(k)] : null);
    const entry = this.drawn ? null : this.spec.datasets[this.dataset];
    const coverage = entry && entry.modes
      ? modeCoverage(out.fake, entry.modes, entry.mode_std, this.spec.coverage) : null;
    return {
      ...out,
      losses: { d: read("dLoss"), g: read("gLoss") },
      // mean D(x) for the logistic losses, else the mean critic score
      scores: { real: read("realScore"), fake: read("fakeScore") },
      coverage,
    };
  }

  /** G's and D's weights under gan_core's state_dict names (torch layout). */
  async weights() {
    const stride = this.spec.architecture.layer_name_stride;
    return { generator: await netTensors(this.G, stride), discriminator: await netTensors(this.D, stride) };
  }

  /** Load weights as `weights()` gives them (the parity test starts from Python's). */
  loadWeights({ generator, discriminator }) {
    const stride = this.spec.architecture.layer_name_stride;
    loadNetTensors(this.G, generator, stride);
    loadNetTensors(this.D, discriminator, stride);
  }

  dispose() {
    disposeNet(this.G);
    disposeNet(this.D);
    disposeOptimizer(this.optG);
    disposeOptimizer(this.optD);
    tf.dispose(Object.values(this.last || {}));
    tf.dispose([this.fixedZ, this.manifoldZ, this.grid].filter(Boolean));
    this.last = {};
    this.G = this.D = this.optG = this.optD = this.fixedZ = this.manifoldZ = this.grid = null;
  }
}
