// Scalar constants as kept tensors, made once: `tf.mul(x, 0.5)` would upload a new scalar tensor on every call,
// and a training step uses hundreds of them.
import * as tf from "./tf.js";

const cache = new Map();

/** The float32 scalar tensor for `value`, shared and never disposed. */
export function constant(value) {
  let tensor = cache.get(value);
  if (!tensor) {
    tensor = tf.keep(tf.scalar(value));
    cache.set(value, tensor);
  }
  return tensor;
}

/** How many constants are held (the parity test's leak check leaves them out). */
export function constantCount() {
  return cache.size;
}
