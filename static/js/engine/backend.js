// Picks TensorFlow.js's backend: WASM (SIMD, one thread: the page is not cross-origin isolated) where it
// loads, else the plain-JS cpu backend. WebGL is not used: without a GPU it is emulated and slower than both.
import * as tf from "./tf.js";

const WASM_BACKEND_FILE = "tf-backend-wasm.es2017.min.js";

async function useCpu(fallbackReason) {
  await tf.setBackend("cpu");
  await tf.ready();
  return { backend: tf.getBackend(), fallbackReason };
}

/**
 * Registers the vendored WASM backend (its UMD build registers itself on a global `tf`, which is set to this
 * library first) and selects it; falls back to cpu with the reason in plain words.
 * vendorUrl: absolute URL of static/vendor/tfjs-4.22.0/ ending in "/". Returns {backend, fallbackReason}.
 */
export async function chooseBackend(vendorUrl, preferred = "wasm") {
  tf.enableProdMode(); // no per-op debug checks
  if (preferred !== "wasm") return useCpu(null);
  if (typeof WebAssembly !== "object") return useCpu("this browser has no WebAssembly");
  try {
    globalThis.tf = { ...tf };
    await import(`${vendorUrl}${WASM_BACKEND_FILE}`);
    globalThis.tf.wasm.setWasmPaths(vendorUrl);
    if (await tf.setBackend("wasm")) {
      await tf.ready();
      return { backend: tf.getBackend(), fallbackReason: null };
    }
    return useCpu("the WASM backend did not start");
  } catch (error) {
    return useCpu(`the WASM backend could not load (${error.message || error})`);
  }
}
