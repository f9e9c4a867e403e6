// ONNX Runtime Web (WASM backend, one thread: no cross-origin isolation needed), loaded from the
// app's own static files, and the generator's .onnx fetched once per content hash and kept in
// IndexedDB. This element's script runs as a module from a blob: URL, so every URL is built from
// window.location.origin (a bare "/app/static/..." does not resolve there). Nothing here starts before the
// explorer's first image is painted (loadGenerator): the runtime and the model are most of a cold tab's bytes.

import { afterPaint } from "./loader.js";

const DB_NAME = "gan-explorer";
const STORE = "files";
let runtimePromise = null;
const sessions = new Map(); // sha256 -> Promise<{session, run}>

export function absolute(path) {
  return new URL(path, window.location.origin + "/").href;
}

function openDb() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new Error("no IndexedDB"));
      return;
    }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function dbGet(key) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE, "readonly").objectStore(STORE).get(key);
    request.onsuccess = () => resolve(request.result || null);
    request.onerror = () => reject(request.error);
  });
}

async function dbPut(key, value) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(value, key);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

async function sha256Hex(buffer) {
  if (!(window.crypto && crypto.subtle)) return null; // plain http on a LAN address: no subtle crypto
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bytes at url, from IndexedDB when this browser fetched them before (key names their content). */
async function cachedBytes(key, url, expectedSha) {
  try {
    const hit = await dbGet(key);
    if (hit) return hit;
  } catch (err) {
    console.warn("gan-explorer: browser cache unavailable, downloading", err);
  }
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const buffer = await response.arrayBuffer();
  if (expectedSha) {
    const got = await sha256Hex(buffer);
    if (got && got !== expectedSha) throw new Error(`${url} does not have the expected content`);
  }
  dbPut(key, buffer).catch((err) => console.warn("gan-explorer: could not cache", url, err));
  return buffer;
}

/** The ort module, set up for the WASM backend with one thread and the vendored .wasm. */
export function loadRuntime(runtime) {
  if (!runtimePromise) {
    runtimePromise = (async () => {
      if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
      const ort = await import(absolute(runtime.module));
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmBinary = await cachedBytes(`ort-${runtime.version}.wasm`, absolute(runtime.wasm));
      return ort;
    })();
    runtimePromise.catch(() => { runtimePromise = null; }); // a later mount may try again
  }
  return runtimePromise;
}

/** A generator session for the model, created once per content hash; run() calls never overlap. */
export function loadModel(ort, model) {
  let entry = sessions.get(model.sha256);
  if (!entry) {
    entry = (async () => {
      const bytes = await cachedBytes(`model-${model.sha256}`, absolute(model.url), model.sha256);
      const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
        executionProviders: ["wasm"], graphOptimizationLevel: "all",
      });
      let queue = Promise.resolve();
      const inputName = session.inputNames[0], outputName = session.outputNames[0];
      const run = (flat, n) => {
        const next = queue.then(async () => {
          const feeds = { [inputName]: new ort.Tensor("float32", flat, [n, flat.length / n]) };
          const out = await session.run(feeds);
          return out[outputName].data;
        });
        queue = next.catch(() => undefined);
        return next;
      };
      return { session, run };
    })();
    entry.catch(() => sessions.delete(model.sha256));
    sessions.set(model.sha256, entry);
  }
  return entry;
}

/** The generator's run(), loaded once `shown` (the first image being drawn) has settled and been painted. */
export async function loadGenerator(runtime, model, shown) {
  await Promise.resolve(shown).catch((err) => console.warn("gan-explorer: no first image", err));
  await afterPaint();
  return loadModel(await loadRuntime(runtime), model);
}
