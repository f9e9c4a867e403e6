// The 2-D playground element: the student's browser trains the GAN (the engine's Web Worker, TensorFlow.js) and
// this element draws every animation frame from the worker's latest state. Controls act on the next frame;
// nothing is sent to the server while training. Save asks the worker for G's weights and sends them to Python
// once (trigger "save"); if the library cannot start, the element says so and offers the server (trigger
// "server"). Python sends the engine's spec, the choices and limits, the palette and the warnings' thresholds.

import { decodeF32, encodeF32 } from "../common/base64.js";
import { Controls } from "./controls.js";
import { DrawData } from "./draw_data.js";
import { EngineClient } from "./engine_client.js";
import { FieldView, checksum } from "./field_view.js";
import { setupLink } from "./link.js";
import { statusText } from "./status.js";
import { Warnings, conditions } from "./warnings.js";

const DETACHED_MS = 3000; // the element left the page this long ago: stop the worker
// Frame requests in flight while training: with two, the worker always has the next one queued behind its
// training slice, so a new frame is ready for (nearly) every animation frame.
const FRAMES_IN_FLIGHT = 2;
const DRAWN = "drawn";

function absolute(path) {
  return new URL(path, `${window.location.origin}/`).href;
}

export class Playground {
  constructor(root, args) {
    const d = args.data;
    this.args = args;
    this.data = d;
    this.ui = { ...d.ui, real: Object.fromEntries(Object.entries(d.ui.real).map(([k, v]) => [k, decodeF32(v)])) };
    const $ = (sel) => root.querySelector(sel);
    this.root = root;
    this.el = {
      engine: $(".pg-engine"), failed: $(".pg-failed"), failedText: $(".pg-failed-text"), toServer: $(".pg-to-server"),
      run: $(".pg-run"), steps: root.querySelectorAll(".pg-step"), speed: $(".pg-speed"), reset: $(".pg-reset"),
      status: $(".pg-status"), canvas: $(".pg-field"), draw: $(".pg-draw"), clear: $(".pg-clear"),
      drawCount: $(".pg-draw-count"), save: $(".pg-save"), saveName: $(".pg-save-name"), saveText: $(".pg-save-text"),
      link: $(".pg-link"), copy: $(".pg-copy"), scale: $(".pg-scale"), scaleName: $(".pg-scale-name"),
      scaleLo: $(".pg-scale-lo"), scaleHi: $(".pg-scale-hi"),
    };
    this.view = new FieldView(this.el.canvas, d.palette);
    this.warnings = new Warnings($(".pg-warnings"), d.warnings);
    this.controls = new Controls(root, this.ui, (field, value) => this.change(field, value));
    this.drawing = new DrawData(this.el.canvas, this.view, (points) => this.drawnChanged(points));
    this.latest = null; this.drawnFrame = null; this.inFlight = []; this.dirty = true; this.running = false;
    this.ctlSeq = 0; this.ctlTimes = new Map(); this.draws = 0; this.distinct = 0; this.detachedAt = null;
    this.saveNonce = 0; this.savedSeen = d.saved ? d.saved.nonce : 0; this.stopped = false;
    this.setupNonce = d.setupNonce;
    this.paintStatic();
    this.bind();
    this.applySetup(d.setup, d.setup.preset || null, false);
    this.engine = new EngineClient(absolute(d.worker), {
      onReady: (msg, first) => this.ready(msg, first),
      onFrame: (msg) => this.frame(msg),
      onFail: (reason) => this.failed(reason),
      onError: (message) => { this.el.saveText.textContent = `The training step failed: ${message}`; },
    });
    this.init();
    this.loop = this.loop.bind(this);
    requestAnimationFrame(this.loop);
  }

  // ------------------------------------------------------------ from Python (every rerun)
  update(args) {
    this.args = args;
    const d = args.data;
    if (d.setupNonce !== this.setupNonce) { // a new link was opened: its set-up replaces this one
      this.setupNonce = d.setupNonce;
      this.applySetup(d.setup, d.setup.preset || null, true);
    }
    if (d.saved && d.saved.nonce !== this.savedSeen) {
      this.savedSeen = d.saved.nonce;
      this.el.saveText.textContent = d.saved.text;
      this.el.saveText.dataset.ok = d.saved.ok ? "1" : "0";
      this.el.save.disabled = !this.engine.ready;
    }
  }

  paintStatic() {
    const p = this.data.palette;
    this.root.querySelector(".pg-real").style.background = p.real;
    const fake = this.root.querySelector(".pg-fake");
    fake.style.background = p.fake;
    fake.style.border = `1px solid ${p.fakeOutline}`;
    this.el.scale.style.background = `linear-gradient(to right, ${p.scaleStops.join(", ")})`;
    for (const s of this.ui.speeds) {
      const o = document.createElement("option");
      o.value = s === null ? "" : String(s);
      o.textContent = s === null ? "full speed" : `${s} steps/s`;
      this.el.speed.append(o);
    }
  }

  bind() {
    const el = this.el;
    el.run.addEventListener("click", () => this.setRunning(!this.running));
    for (const b of el.steps) b.addEventListener("click", () => {
      this.engine.post({ type: "step", which: b.dataset.which });
      this.mark();
    });
    el.speed.addEventListener("change", () => {
      this.engine.post({ type: "speed", stepsPerSecond: el.speed.value ? Number(el.speed.value) : null });
      this.mark();
    });
    el.reset.addEventListener("click", () => {
      this.engine.post({ type: "reset", seed: this.setup.seed });
      if (this.running) this.engine.post({ type: "run" });
      this.warnings.reset();
      this.mark();
    });
    for (const name of ["surface", "arrows", "manifold", "real"]) {
      const box = this.root.querySelector(`.pg-show-${name}`);
      box.addEventListener("change", () => { this.view.show[name] = box.checked; this.drawnFrame = null; });
    }
    for (const radio of this.root.querySelectorAll("[name=pg-tool]")) {
      radio.addEventListener("change", () => { if (radio.checked) this.drawing.tool = radio.value; });
    }
    el.clear.addEventListener("click", () => this.drawing.clear());
    el.save.addEventListener("click", () => this.save());
    el.copy.addEventListener("click", () => this.copyLink());
    el.toServer.addEventListener("click", () => this.args.setTriggerValue("server", this.linkSetup()));
  }

  // ------------------------------------------------------------ the set-up
  applySetup(setup, presetSlug, reinit) {
    this.setup = { ...setup };
    delete this.setup.preset;
    this.presetSlug = presetSlug;
    const drawn = this.setup.dataset === DRAWN;
    this.drawing.set(drawn ? this.setup.points || [] : []);
    this.showData();
    this.controls.show(this.setup, presetSlug);
    this.showScale();
    this.updateLink();
    if (reinit) this.init();
  }

  showData() {
    const drawn = this.setup.dataset === DRAWN;
    this.view.extent = drawn ? this.ui.drawExtent : this.ui.extents[this.setup.dataset];
    this.view.real = drawn ? this.drawing.flat() : this.ui.real[this.setup.dataset];
    this.drawing.setEnabled(drawn);
    this.el.draw.hidden = !drawn;
    this.el.drawCount.textContent = drawn ? `${this.drawing.points.length} points` : "";
    this.drawnFrame = null;
  }

  showScale() {
    const probability = this.ui.probabilityLosses.includes(this.setup.loss);
    this.el.scaleName.textContent = probability ? "D(x):" : "critic score:";
    this.el.scaleLo.textContent = probability ? "fake" : "low";
    this.el.scaleHi.textContent = probability ? "real" : "high";
  }

  /** The worker's config: TrainConfig's field names (drawn data starts from a built-in sampler's name). */
  config() {
    const c = {};
    for (const field of this.ui.configFields) c[field] = this.setup[field];
    if (c.dataset === DRAWN) c.dataset = this.ui.datasets[0].name;
    return c;
  }

  init() {
    this.engine.post({ type: "init", spec: this.data.spec, config: this.config(), seed: this.setup.seed });
    this.sendData();
    if (this.el.speed.value) this.engine.post({ type: "speed", stepsPerSecond: Number(this.el.speed.value) });
    if (this.running) this.engine.post({ type: "run" });
    this.warnings.reset();
    this.mark();
  }

  sendData() {
    if (this.setup.dataset !== DRAWN) {
      this.engine.post({ type: "data", dataset: this.setup.dataset });
    } else if (this.drawing.points.length) {
      const points = this.drawing.flat();
      this.engine.post({ type: "data", points, extent: this.ui.drawExtent }, [points.buffer]);
    }
  }

  change(field, value) {
    if (field === "preset") {
      const preset = this.ui.presets.find((p) => p.slug === value);
      if (preset) this.applySetup({ ...preset.setup, seed: this.setup.seed }, preset.slug, true);
      else { this.presetSlug = null; this.controls.show(this.setup, null); }
      return;
    }
    this.setup[field] = value;
    this.presetSlug = null;
    if (field === "dataset") {
      this.showData();
      this.sendData();
      this.warnings.reset();
    } else if (field === "z_dim") {
      this.init(); // another noise dimension is another generator: fresh weights
    } else if (field === "loss") { // the worker takes the loss's own k with it, as TrainConfig resolves it
      this.setup.n_critic = this.ui.losses.find((l) => l.name === value).defaultNCritic;
      this.engine.post({ type: "set", changes: { loss: value, n_critic: this.setup.n_critic } });
    } else {
      this.engine.post({ type: "set", changes: { [field]: value } });
    }
    if (field === "loss") this.showScale();
    this.controls.show(this.setup, null);
    this.updateLink();
    this.mark();
  }

  drawnChanged(points) {
    this.setup.points = points.map(([x, y]) => [x, y]);
    this.el.drawCount.textContent = `${points.length} points`;
    this.sendData();
    this.updateLink();
    this.mark();
  }

  /** A control changed: the next frame asked for shows it (its latency is measured when it is drawn). */
  mark() {
    this.ctlSeq += 1;
    this.ctlTimes.set(this.ctlSeq, [performance.now(), this.draws]);
    if (this.ctlTimes.size > 64) this.ctlTimes.delete(this.ctlTimes.keys().next().value);
    this.dirty = true;
    this.drawnFrame = null;
  }

  setRunning(on) {
    this.running = on;
    this.engine.post({ type: on ? "run" : "pause" });
    this.el.run.textContent = on ? "Pause" : "Run";
    for (const b of this.el.steps) b.disabled = on || !this.engine.ready;
    this.mark();
  }

  // ------------------------------------------------------------ the worker
  ready(msg, first) {
    if (!first) return;
    const backend = msg.backend || "cpu";
    this.el.engine.textContent = `Training in your browser (TensorFlow.js, ${backend})`;
    this.el.engine.dataset.backend = backend;
    for (const b of [this.el.run, this.el.reset, this.el.save]) b.disabled = false;
    for (const b of this.el.steps) b.disabled = this.running;
    this.dirty = true;
  }

  frame(msg) {
    msg.ctl = this.inFlight.shift() ?? this.ctlSeq; // the control count when this frame was asked for
    this.latest = msg;
  }

  failed(reason) {
    this.stopped = true;
    this.el.engine.textContent = "Your browser cannot train here.";
    this.el.failedText.textContent = `TensorFlow.js could not start in your browser: ${reason}. ` +
      "The server can train the same set-up instead.";
    this.el.failed.hidden = false;
    for (const b of [this.el.run, this.el.reset, this.el.save, ...this.el.steps]) b.disabled = true;
    this.args.setTriggerValue("failed", String(reason).slice(0, 200));
  }

  loop(now) {
    if (!this.root.isConnected && !(this.el.canvas && this.el.canvas.isConnected)) {
      this.detachedAt = this.detachedAt ?? now;
      if (now - this.detachedAt > DETACHED_MS) { this.engine.stop(); return; }
    } else {
      this.detachedAt = null;
    }
    const most = this.running ? FRAMES_IN_FLIGHT : 1;
    if (this.engine.ready && !this.engine.failed && this.inFlight.length < most && (this.running || this.dirty)) {
      this.dirty = false;
      this.inFlight.push(this.ctlSeq);
      this.engine.post({ type: "frame" });
    }
    if (this.latest && this.latest !== this.drawnFrame) this.draw(this.latest, now);
    requestAnimationFrame(this.loop);
  }

  draw(frame, now) {
    this.drawnFrame = frame;
    if (Number.isFinite(frame.extent)) this.view.extent = frame.extent;
    this.view.draw(frame, { gridSize: this.ui.frameGrid, manifoldSize: this.ui.frameManifold,
      probability: this.ui.probabilityLosses.includes(this.setup.loss) });
    const previous = this.el.canvas.pgFrame;
    this.draws += 1;
    // a new training state (not the same weights drawn again, as happens when a frame was asked for between steps)
    if (!previous || previous.dSteps !== frame.dSteps || previous.gSteps !== frame.gSteps) this.distinct += 1;
    this.el.canvas.pgFrame = frame; // the frame on screen, for tests and benchmarks (a reference, no copy)
    const c = this.el.canvas.dataset;
    c.draws = String(this.draws);
    c.distinct = String(this.distinct);
    c.step = String(frame.step);
    c.running = frame.running ? "1" : "0";
    c.fakeSum = String(checksum(frame.fake));
    c.surfaceSum = String(checksum(frame.surface));
    if (frame.fake && frame.fake.length) {
      let mx = 0, my = 0;
      const n = frame.fake.length / 2;
      for (let i = 0; i < n; i += 1) { mx += frame.fake[2 * i]; my += frame.fake[2 * i + 1]; }
      c.fakeMean = `${(mx / n).toFixed(4)},${(my / n).toFixed(4)}`;
    }
    if (frame.ctl !== Number(c.ctl || 0) && this.ctlTimes.has(frame.ctl)) {
      const [at, draws] = this.ctlTimes.get(frame.ctl);
      c.ctl = String(frame.ctl);
      c.ctlMs = (performance.now() - at).toFixed(1); // from the control's event to this frame on screen
      c.ctlFrames = String(this.draws - draws); // 1: the next frame drawn showed it (2: one was in flight)
    }
    const shown = this.setup.dataset === DRAWN ? { ...frame, coverage: null } : frame;
    this.el.status.textContent = statusText(shown, this.setup, this.drawing.points.length);
    this.el.status.title = this.data.coverageRule;
    const kinds = this.warnings.update(conditions(shown, this.setup, this.data.warnings), now);
    if (kinds.includes("diverged") && this.running) this.setRunning(false);
  }

  // ------------------------------------------------------------ save and share
  linkSetup() {
    const setup = { ...this.setup };
    if (setup.dataset !== DRAWN) delete setup.points;
    else setup.points = (setup.points || []).slice(0, this.ui.maxLinkPoints);
    return setup;
  }

  updateLink() {
    this.el.link.value = setupLink(this.data.pagePath, this.linkSetup());
  }

  async copyLink() {
    try {
      await navigator.clipboard.writeText(this.el.link.value);
      this.el.copy.textContent = "Copied";
    } catch {
      this.el.link.select(); // no clipboard on plain http: the link is selected for Ctrl+C
      this.el.copy.textContent = "Press Ctrl+C";
    }
  }

  async save() {
    this.el.save.disabled = true;
    this.el.saveText.textContent = "Saving…";
    try {
      const msg = await this.engine.weights();
      const source = msg.tensors || msg.generator;
      const generator = {};
      for (const [name, t] of Object.entries(source)) generator[name] = { shape: t.shape, data: encodeF32(t.data) };
      this.saveNonce += 1;
      this.args.setTriggerValue("save", {
        nonce: this.saveNonce, name: this.el.saveName.value, generator, setup: this.linkSetup(),
        step: this.latest ? this.latest.step : 0,
      });
    } catch (err) {
      this.el.saveText.textContent = `Could not read G's weights: ${err.message}`;
      this.el.save.disabled = false;
    }
  }
}
