// Picks TensorFlow.js's backend: WASM (SIMD, one thread: the page is not cross-origin isolated) where it
// loads, else the plain-JS cpu backend. WebGL is not used: without a GPU it is emulated and slower than both.
import * as tf from "./tf.js";

/**
 * Registers the vendored WASM backend (its UMD build registers itself on a global `tf`) and selects it;
 * falls back to cpu. vendorUrl: absolute URL of static/vendor/tfjs-4.22.0/ ending in "/".
 * Returns {backend, fallbackReason}.
 */
export async function chooseBackend(vendorUrl, preferred = "wasm") {
  if (preferred === "wasm" && typeof WebAssembly === "object") {
    try {
      globalThis.tf = { ...tf };
      await import(`${vendorUrl}tf-backend-wasm.min.js`);
      globalThis.tf.wasm.setWasmPaths(vendorUrl);
      if (await tf.setBackend("wasm")) {
        await tf.ready();
        return { backend: tf.getBackend(), fallbackReason: null };
      }
    } catch (error) {
      await tf.setBackend("cpu");
      await tf.ready();
      return { backend: tf.getBackend(), fallbackReason: `WASM backend unavailable: ${error.message || error}` };
    }
  }
  await tf.setBackend("cpu");
  await tf.ready();
  return { backend: tf.getBackend(), fallbackReason: preferred === "wasm" ? "no WebAssembly" : null };
}
