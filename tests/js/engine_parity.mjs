// Runs the browser engine (static/js/engine/, on the vendored TensorFlow.js, cpu backend) on cases written by
// tests/test_engine_parity.py and writes what it computed, for Python to compare with gan_core's Trainer.
// Usage: node tests/js/engine_parity.mjs CASES.json OUT.json
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";

// The vendored ES-module build calls require() for Node's built-ins when it detects Node.
globalThis.require = createRequire(import.meta.url);
const tf = await import("../../static/js/engine/tf.js");
const { TrainingRun } = await import("../../static/js/engine/training_run.js");
const { sampleDataset } = await import("../../static/js/engine/samplers.js");
const { modeCoverage } = await import("../../static/js/engine/coverage.js");
const { makeRng } = await import("../../static/js/engine/rng.js");
const { constantCount } = await import("../../static/js/engine/constants.js");

await tf.setBackend("cpu");
tf.env().set("PROD", true);
const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const spec = input.spec;
const f32 = (values) => Float32Array.from(values.flat(Infinity));
const tensors = (named) => Object.fromEntries(Object.entries(named).map(([k, v]) => [k, { data: f32(v) }]));
const plain = (named) => Object.fromEntries(Object.entries(named).map(([k, v]) => [k, Array.from(v.data)]));

const steps = [];
for (const c of input.cases) {
  const run = new TrainingRun(spec, c.config, 0);
  run.loadWeights({ generator: tensors(c.generator), discriminator: tensors(c.discriminator) });
  const losses = [];
  for (const round of c.rounds) {
    run.dStep({ real: f32(round.real), z: f32(round.z), alpha: round.alpha ? f32(round.alpha) : undefined });
    run.gStep({ z: f32(round.z) });
    losses.push({ d: (await run.last.dLoss.data())[0], g: (await run.last.gLoss.data())[0] });
  }
  const weights = await run.weights();
  steps.push({ name: c.name, losses, generator: plain(weights.generator), discriminator: plain(weights.discriminator) });
  run.dispose();
}

const samples = {};
for (const name of Object.keys(spec.datasets)) {
  samples[name] = Array.from(sampleDataset(spec.datasets[name], input.sample_count, makeRng(1)));
}
const coverage = input.coverage.map((c) => modeCoverage(f32(c.points), spec.datasets[c.dataset].modes,
  spec.datasets[c.dataset].mode_std, spec.coverage));
const leaks = tf.memory().numTensors - constantCount();
writeFileSync(process.argv[3], JSON.stringify({ steps, samples, coverage, leaks, backend: tf.getBackend() }));
