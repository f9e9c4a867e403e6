// The 2-D toy generator and discriminator: MLPs of `depth` hidden layers of `hidden` units, the same
// architecture as gan_core.nn.models.ToyGenerator / ToyDiscriminator (sent in the spec's `architecture`).
// Weights are stored as torch stores them (a Linear's weight is [out, in]) under torch's state_dict names.
import * as tf from "./tf.js";
import { constant } from "./constants.js";

/** The layer widths [in, hidden x depth, out]. */
export function layerSizes(inputDim, hidden, depth, outputDim) {
  return [inputDim, ...Array(depth).fill(hidden), outputDim];
}

/** The state_dict names of layer i (nn.Sequential of Linear + activation pairs: net.0, net.2, ...). */
export function layerNames(index, stride) {
  return { weight: `net.${index * stride}.weight`, bias: `net.${index * stride}.bias` };
}

let netCount = 0;

/** A net's variables from initial values: layers[i] = {weight: Float32Array [out*in], bias: Float32Array [out]}. */
export function netFromArrays(role, sizes, arrays) {
  netCount += 1;
  const layers = arrays.map((layer, i) => tf.tidy(() => ({
    weight: tf.variable(tf.tensor2d(layer.weight, [sizes[i + 1], sizes[i]]), true, `${role}${netCount}/${i}/w`),
    bias: tf.variable(tf.tensor1d(layer.bias), true, `${role}${netCount}/${i}/b`),
  })));
  return { role, sizes, layers };
}

/** torch.nn.Linear's default initialisation: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function initialArrays(sizes, rng) {
  const arrays = [];
  for (let i = 0; i + 1 < sizes.length; i += 1) {
    const bound = 1 / Math.sqrt(sizes[i]);
    const draw = (n) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
    arrays.push({ weight: draw(sizes[i] * sizes[i + 1]), bias: draw(sizes[i + 1]) });
  }
  return arrays;
}

/** Build G and D for an engine config from the spec's architecture, with seeded initial weights. */
export function buildNets(spec, config, rng) {
  const arch = spec.architecture;
  const gSizes = layerSizes(config.z_dim, config.toy_hidden, config.toy_depth, arch.output_dim);
  const dSizes = layerSizes(arch.input_dim, config.toy_hidden, config.toy_depth, 1);
  return {
    G: netFromArrays("G", gSizes, initialArrays(gSizes, rng)),
    D: netFromArrays("D", dSizes, initialArrays(dSizes, rng)),
  };
}

/** Leaky ReLU written as a*x + b*|x| (a = (1+s)/2, b = (1-s)/2): the same function, and unlike tf.leakyRelu
 * (whose gradient uses Greater, which has no gradient) it can be differentiated twice, as the penalties need. */
export function leakyRelu(x, slope) {
  return tf.add(tf.mul(x, constant((1 + slope) / 2)), tf.mul(tf.abs(x), constant((1 - slope) / 2)));
}

function linear(h, layer, activation = "linear") {
  // Not tf.fused.matMul: with transposeB its WASM kernel (TF.js 4.22) gets every row of a batch but the first wrong.
  const out = tf.add(tf.matMul(h, layer.weight, false, true), layer.bias);
  return activation === "relu" ? tf.relu(out) : out;
}

/** G(z): [N, z_dim] -> [N, 2] (ReLU hidden layers). */
export function generate(G, z) {
  let h = z;
  G.layers.forEach((layer, i) => {
    h = linear(h, layer, i + 1 < G.layers.length ? "relu" : "linear");
  });
  return h;
}

/** D(x): [N, 2] -> [N] raw scores (logits or critic values), leaky-ReLU hidden layers. `twice`: a pass whose
 * gradient will itself be differentiated (the penalties' inner pass) uses the twice-differentiable form;
 * the others use tf.leakyRelu (one op instead of four, the same values). */
export function discriminate(D, x, slope, twice = false) {
  let h = x;
  D.layers.forEach((layer, i) => {
    h = linear(h, layer);
    if (i + 1 < D.layers.length) h = twice ? leakyRelu(h, slope) : tf.leakyRelu(h, slope);
  });
  return tf.reshape(h, [-1]);
}

/** The net's variables in layer order (weight, bias, weight, bias, ...). */
export function netVariables(net) {
  return net.layers.flatMap((layer) => [layer.weight, layer.bias]);
}

/** The net's weights as {state_dict name: {shape, data}} (torch layout), read from the device. */
export async function netTensors(net, stride) {
  const out = {};
  for (let i = 0; i < net.layers.length; i += 1) {
    const names = layerNames(i, stride);
    const layer = net.layers[i];
    out[names.weight] = { shape: layer.weight.shape, data: await layer.weight.data() };
    out[names.bias] = { shape: layer.bias.shape, data: await layer.bias.data() };
  }
  return out;
}

/** Replace the net's weights with {state_dict name: {shape, data}} (as netTensors gives). */
export function loadNetTensors(net, tensors, stride) {
  tf.tidy(() => net.layers.forEach((layer, i) => {
    const names = layerNames(i, stride);
    layer.weight.assign(tf.tensor(tensors[names.weight].data, layer.weight.shape));
    layer.bias.assign(tf.tensor(tensors[names.bias].data, layer.bias.shape));
  }));
}

export function disposeNet(net) {
  if (net) netVariables(net).forEach((v) => v.dispose());
}
