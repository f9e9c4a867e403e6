// The browser training engine's Web Worker: trains the 2-D GAN at full speed (or in slow motion) off the page's
// thread and answers the page's frame requests from the current weights. Start it as a module worker:
//   new Worker(`${window.location.origin}/app/static/js/engine/train_worker.js`, {type: "module"})
//
// PROTOCOL (as built; changes are also appended to the team's PROTOCOL-CHANGES notes)
// Messages in (postMessage):
//   {type: "init", spec, config, seed, backend?}  spec = gan_core.teach.browser_spec.browser_spec(); config uses
//       TrainConfig's field names (any omitted come from spec.defaults); backend "wasm" (default) or "cpu".
//       Builds G and D, seeded, PAUSED. Replies {type: "ready", backend, fallbackReason, config}.
//   {type: "run"} / {type: "pause"}
//   {type: "step", which: "both" | "d" | "g"}    one step while paused (both = n_critic D updates + one G update)
//   {type: "speed", stepsPerSecond: null | number}   null = as fast as it can; a number = slow motion
//   {type: "set", changes: {lr_g, lr_d, loss, beta1, beta1_d, beta2, optimizer_g, optimizer_d, n_critic,
//       batch_size, gp_weight, r1_gamma, label_smoothing}}   applied before the next step; a new optimiser kind
//       starts with fresh state; a new loss without n_critic takes the loss's default n_critic.
//       Replies {type: "config", config} (the whole config now in force).
//   {type: "data", dataset: "ring8"} or {type: "data", points: Float32Array(x0, y0, x1, y1, ...), extent?}
//       (drawn points are sampled with replacement plus spec.drawn.jitter; `extent` = the view's half-width for
//       the frames' D grid, default spec.drawn.extent)
//   {type: "reset", seed}    fresh weights and optimisers, step 0, paused (config and data kept)
//   {type: "frame"}          replies one frame (below) computed from the current weights, after the update (one D or
//                            one G update) in progress: at full speed, steps are trained update by update
//   {type: "weights"}        replies {type: "weights", step, config, tensors: {G's state_dict name: {shape, data}},
//       discriminator: {...}}: gan_core's ToyGenerator / ToyDiscriminator names and layouts ([out, in])
// Messages out:
//   {type: "ready", ...}; {type: "error", message, during}   plain words (the library could not load, bad value)
//   {type: "frame", step, dSteps, gSteps, running, stepsPerSecond, extent, probability,
//    fake: Float32Array(2M) (G(z) of a fixed z sample, M = spec.frame.points),
//    arrows: Float32Array(2M) (minus the gradient of G's loss, summed over points, at each fake point),
//    surface: Float32Array(GRID^2) (D(x) for minimax/nonsaturating, else the critic's score; row i at y_i,
//        column j at x_j, both over [-extent, extent]),
//    manifold: Float32Array(2 * MANIFOLD^2) (G on a MANIFOLD x MANIFOLD grid of z, row-major),
//    losses: {d, g}, scores: {real, fake} (mean D(x) for the logistic losses, else mean critic score; null
//        before the first step), coverage: {modes_covered, num_modes, high_quality, mode_counts} | null (drawn or
//        continuous data)}. The typed arrays are transferred, not copied.
import { chooseBackend } from "./backend.js";
import { TrainingRun } from "./training_run.js";

const VENDOR_URL = new URL("../../vendor/tfjs-4.22.0/", import.meta.url).href;
const SLICE_MS = 8; // train this long between looks at the message queue (a frame request waits at most this)
const RATE_WINDOW_MS = 1000;

const state = {
  run: null,
  backend: null,
  running: false,
  stepsPerSecond: null, // null = full speed
  lastStepAt: 0,
  stepTimes: [],
  scheduled: false,
};

const yieldChannel = new MessageChannel();
yieldChannel.port1.onmessage = () => {
  state.scheduled = false;
  tick();
};

function schedule(delayMs = 0) {
  if (state.scheduled) return;
  state.scheduled = true;
  if (delayMs > 0) setTimeout(() => yieldChannel.port2.postMessage(null), delayMs);
  else yieldChannel.port2.postMessage(null);
}

function fail(error, during) {
  self.postMessage({ type: "error", message: String(error && error.message ? error.message : error), during });
}

function countStep() {
  const now = performance.now();
  state.lastStepAt = now;
  state.stepTimes.push(now);
  while (state.stepTimes.length && state.stepTimes[0] < now - RATE_WINDOW_MS) state.stepTimes.shift();
}

function measuredRate() {
  const times = state.stepTimes;
  const now = performance.now();
  while (times.length && times[0] < now - RATE_WINDOW_MS) times.shift();
  if (times.length < 2) return times.length;
  return (times.length - 1) / Math.max((times[times.length - 1] - times[0]) / 1000, 1e-3);
}

function tick() {
  const { run } = state;
  if (!run || !state.running) return;
  try {
    if (state.stepsPerSecond) {
      const interval = 1000 / state.stepsPerSecond;
      const wait = state.lastStepAt + interval - performance.now();
      if (wait > 1) {
        schedule(wait);
        return;
      }
      run.step();
      countStep();
      schedule(interval);
      return;
    }
    const until = performance.now() + SLICE_MS;
    do {
      if (run.advance()) countStep();
    } while (performance.now() < until);
  } catch (error) {
    state.running = false;
    fail(error, "training");
    return;
  }
  schedule();
}

async function sendFrame() {
  const { run } = state;
  if (!run) return;
  const frame = await run.frame();
  self.postMessage({
    type: "frame",
    step: run.steps,
    dSteps: run.dSteps,
    gSteps: run.gSteps,
    running: state.running,
    stepsPerSecond: state.running ? measuredRate() : 0,
    extent: run.extent(),
    probability: run.lossInfo.probability,
    ...frame,
  }, [frame.fake.buffer, frame.arrows.buffer, frame.surface.buffer, frame.manifold.buffer]);
}

async function sendWeights() {
  const { run } = state;
  const { generator, discriminator } = await run.weights();
  const buffers = [...Object.values(generator), ...Object.values(discriminator)].map((t) => t.data.buffer);
  self.postMessage({ type: "weights", step: run.steps, config: run.config, tensors: generator, discriminator },
    buffers);
}

async function init({ spec, config, seed, backend }) {
  if (!state.backend) state.backend = await chooseBackend(VENDOR_URL, backend || "wasm");
  if (state.run) state.run.dispose();
  state.run = new TrainingRun(spec, config || {}, seed || 0);
  state.running = false;
  state.stepTimes = [];
  self.postMessage({ type: "ready", backend: state.backend.backend, fallbackReason: state.backend.fallbackReason,
    config: state.run.config });
}

const HANDLERS = {
  init,
  run() {
    state.running = true;
    schedule();
  },
  pause() {
    state.running = false;
  },
  step({ which }) {
    if (state.running) return;
    if (which === "d") state.run.dStep();
    else if (which === "g") state.run.gStep();
    else state.run.step();
  },
  speed({ stepsPerSecond }) {
    state.stepsPerSecond = stepsPerSecond && stepsPerSecond > 0 ? stepsPerSecond : null;
    state.stepTimes = [];
    if (state.running) schedule();
  },
  set({ changes }) {
    state.run.set(changes || {});
    self.postMessage({ type: "config", config: state.run.config });
  },
  data({ dataset, points, extent }) {
    state.run.setData({ dataset, points, extent });
  },
  reset({ seed }) {
    state.running = false;
    state.stepTimes = [];
    state.run.reset(seed || 0);
  },
  frame: sendFrame,
  weights: sendWeights,
};

// Messages are handled one at a time, in order (a frame request waits for the step in progress).
let queue = Promise.resolve();
self.onmessage = (event) => {
  const message = event.data || {};
  const handler = HANDLERS[message.type];
  queue = queue.then(async () => {
    if (!handler) throw new Error(`unknown message type ${message.type}`);
    if (message.type !== "init" && !state.run) throw new Error("the engine is not initialised: send init first");
    await handler(message);
  }).catch((error) => fail(error, message.type));
};
