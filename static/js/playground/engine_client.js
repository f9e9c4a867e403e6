// The page's side of the training worker (static/js/engine/train_worker.js, WP-ENGINE's protocol): starts it,
// posts messages, and reports in plain words when it cannot start (the library did not load, no Worker, no
// WebAssembly), so the page can offer the server instead. The worker URL is absolute: this element's script
// runs from a blob: URL, where a bare "/app/static/..." would not resolve.

const READY_TIMEOUT_MS = 60000; // TF.js and its wasm binary load once; a slow machine still answers well within this

export class EngineClient {
  /**
   * @param {string} url absolute URL of the worker module
   * @param {{onReady: Function, onFrame: Function, onWeights: Function, onFail: Function}} handlers
   */
  constructor(url, handlers) {
    this.handlers = handlers;
    this.ready = false;
    this.failed = false;
    this.weightWaiters = [];
    if (typeof Worker === "undefined" || typeof WebAssembly !== "object") {
      queueMicrotask(() => this.fail("this browser has no Web Workers or WebAssembly"));
      return;
    }
    try {
      this.worker = new Worker(url, { type: "module", name: "gan-playground-engine" });
    } catch (err) {
      queueMicrotask(() => this.fail(`the training worker could not start (${err.message})`));
      return;
    }
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(`the training library could not load (${event.message || "the script failed to load"})`);
    };
    this.worker.onmessageerror = () => this.fail("the training worker sent a message the page cannot read");
    this.timer = setTimeout(() => {
      if (!this.ready) this.fail(`the training library did not start within ${READY_TIMEOUT_MS / 1000} s`);
    }, READY_TIMEOUT_MS);
  }

  receive(msg) {
    if (this.failed || !msg || typeof msg !== "object") return;
    if (msg.type === "ready") {
      clearTimeout(this.timer);
      const first = !this.ready;
      this.ready = true;
      this.handlers.onReady(msg, first);
    } else if (msg.type === "frame") {
      this.handlers.onFrame(msg);
    } else if (msg.type === "weights") {
      const waiter = this.weightWaiters.shift();
      if (waiter) waiter.resolve(msg);
    } else if (msg.type === "error") {
      if (!this.ready) this.fail(msg.message || "the training library could not start");
      else this.handlers.onError(msg.message || "the training step failed");
    }
  }

  fail(reason) {
    if (this.failed) return;
    this.failed = true;
    clearTimeout(this.timer);
    if (this.worker) this.worker.terminate();
    for (const w of this.weightWaiters.splice(0)) w.reject(new Error(reason));
    this.handlers.onFail(reason);
  }

  post(message, transfer) {
    if (this.worker && !this.failed) this.worker.postMessage(message, transfer || []);
  }

  /** G's (and D's) tensors, in gan_core's state_dict names and layouts. */
  weights() {
    return new Promise((resolve, reject) => {
      if (this.failed || !this.worker) {
        reject(new Error("the training worker is not running"));
        return;
      }
      this.weightWaiters.push({ resolve, reject });
      this.post({ type: "weights" });
    });
  }

  stop() {
    clearTimeout(this.timer);
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }
}
