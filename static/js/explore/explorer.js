// The in-browser latent explorer: the generator runs here (ONNX Runtime Web), so the image follows
// the hand on every `input` event and nothing is sent to the server while a slider moves. Python
// learns the state once a move ends (component state "view", debounced), so the URL, D(x), the
// memorisation check and the downloads see the canvas's z and class. The server sends each seed's z
// (the same numbers Python uses) and every limit; a seed whose z is not known yet is asked for with that state.
//
// A drawing (sketch.js) goes to Python as the trigger "sketch"; the z Python finds for it comes back as the
// state's `base` (a token; data.base holds its float32 values), which replaces the seed's z as what the
// sliders edit, until a new seed is chosen.
//
// This module holds the explorer's data and state; the controls (controls.js), the draw order
// (draw-queue.js), the generator's batching (generator.js), the panels (panels.js) and the animation
// (animation.js) are pieces it puts together.

import { decodeF32 } from "../common/base64.js";
import { Animation } from "./animation.js";
import { bindControls, makeControlSliders, showControls } from "./controls.js";
import { drawImage, drawPoints } from "./draw.js";
import { DrawQueue } from "./draw-queue.js";
import { findElements } from "./elements.js";
import { Generator } from "./generator.js";
import { baseLatent, effectiveLatent, rows, scaled } from "./latent.js";
import { drawStill } from "./loader.js";
import { ANIM_FRAMES, computeAnimation, drawGridPanel, drawStripPanel } from "./panels.js";
import { loadGenerator } from "./runtime.js";
import { Sketch } from "./sketch.js";

const ALL = ["sample", "grid", "strip", "anim"];

export class Explorer {
  constructor(root) {
    this.root = root;
    this.el = findElements(root);
    this.nonce = 0; this.dirty = false; this.timer = null; this.inputAt = null; this.drawn = 0;
    this.seeds = new Map(); this.bases = new Map(); this.pool = []; this.model = null; this.generator = null;
    this.gridColumns = null; this.cloud = null; this.cloudTrunc = null;
    this.animation = new Animation(this.el.anim, this.el.speed, ANIM_FRAMES);
    this.queue = new DrawQueue(["sample", () => this.drawSample()],
                               [["grid", () => drawGridPanel(this)], ["strip", () => drawStripPanel(this)],
                                ["anim", () => computeAnimation(this)]],
                               () => this.generator !== null, (err) => this.fail(err));
    bindControls(this);
    this.sketch = new Sketch(this.el.sample.parentElement, (png) => this.project(png));
  }

  /** The focused control inside this element (the shadow root knows it; document only sees the host). */
  active() {
    return this.root.activeElement || document.activeElement;
  }

  // ------------------------------------------------------------ data from Python
  update(args) {
    this.args = args;
    const d = args.data;
    const newModel = !this.model || d.model.sha256 !== this.model.sha256 || d.model.name !== this.model.name;
    for (const [seed, b64] of Object.entries(d.seeds)) this.seeds.set(Number(seed), decodeF32(b64));
    if (d.base) this.bases.set(d.base.token, decodeF32(d.base.z));
    this.pool = d.pool.slice();
    if (newModel) {
      clearTimeout(this.timer);
      this.dirty = false;
      this.nonce = d.ack;
      this.setModel(d);
    }
    this.animation.start();
    if (newModel || (d.ack === this.nonce && !this.dirty)) this.state = structuredClone(d.state);
    if (newModel) this.sketch.configure(d.sketch);
    this.sketch.answer(d.sketch && d.sketch.reply);
    this.sketch.show(d.sketch && d.sketch.result);
    showControls(this);
    this.queue.schedule(...ALL);
  }

  setModel(d) {
    const m = d.model, e = this.el;
    this.model = m; this.limits = d.limits; this.generator = null;
    this.points = m.output === "points";
    this.embedding = m.embedding ? rows(decodeF32(m.embedding), m.embedDim) : null;
    this.directions = { vectors: rows(decodeF32(d.directions.vectors), m.zDim),
                        scales: Float32Array.from(d.directions.scales) };
    this.cloudZ = d.cloud ? rows(decodeF32(d.cloud), m.zDim) : null;
    this.modes = d.modes; this.colours = d.palette; this.gridColumns = null; this.cloud = null;
    makeControlSliders(this, d.dims, d.directions.explained);
    e.classField.hidden = !m.numClasses;
    e.gridBox.hidden = !this.conditional();
    e.mode.querySelector("[value=classes]").hidden = !this.conditional();
    e.sample.classList.toggle("gx-points", this.points);
    e.anim.classList.toggle("gx-points", this.points);
    if (this.points) { e.sample.width = e.sample.height = 360; e.anim.width = e.anim.height = 240; }
    this.animation.configure(this.points ? { scene: () => this.scene() } : { shape: m.shape });
    this.status(""); // the note goes under the image: nothing above it moves when the live frame takes over
    e.timing.textContent = `Loading the live explorer for ${m.name} (ONNX Runtime Web ${d.runtime.version}; about ` +
      `${Math.round((d.runtime.wasmBytes + m.bytes) / 1e6)} MB the first time, then kept by this browser)…`;
    const wanted = m.sha256;
    loadGenerator(d.runtime, m, drawStill(e.sample, d.firstImage)).then(({ run }) => {
      if (this.model.sha256 !== wanted) return;
      this.generator = new Generator(run, m, this.embedding, () => this.queue.pending("sample"));
      this.status("");
      this.queue.schedule(...ALL);
    }).catch((err) => this.fail(err));
  }

  /** A conditional image model: class selector, class grid and class-to-class interpolation. */
  conditional() {
    return Boolean(this.model.numClasses) && !this.points;
  }

  fail(err) {
    console.error("gan-explorer:", err);
    const reason = String(err && err.message ? err.message : err).slice(0, 200);
    this.status(`The live explorer could not load (${reason}); switching to images drawn on the server…`, true);
    this.args.setTriggerValue("failed", reason);
  }

  status(text, error = false) {
    this.el.status.textContent = text;
    this.el.status.classList.toggle("gx-error", error);
  }

  /** One line under the top row (a refused seed); any later change of the state clears it. */
  message(text) {
    this.el.message.textContent = text;
    this.el.message.hidden = !text;
  }

  // ------------------------------------------------------------ state changes
  /** A local change: draw it now; tell Python now (a discrete choice) or when the move ends. */
  changed(commitNow, ...what) {
    if (this.inputAt === null) this.inputAt = performance.now();
    this.dirty = true;
    this.message(""); // the student moved on: an old message no longer describes the view
    showControls(this);
    this.queue.schedule(...what);
    if (commitNow) this.commit(0);
  }

  commit(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.nonce += 1;
      this.dirty = false;
      this.args.setStateValue("view", { ...structuredClone(this.state), nonce: this.nonce });
    }, delay);
  }

  /** Send a drawing to be projected; Python's next data acknowledges the returned nonce with the found state. */
  project(png) {
    clearTimeout(this.timer);
    this.nonce += 1;
    this.dirty = false;
    this.args.setTriggerValue("sketch", { png, nonce: this.nonce });
    return this.nonce;
  }

  seedB() {
    const b = this.state.interp.seedB;
    return b === null || b === undefined ? (this.state.seed + 1) % (this.limits.seedMax + 1) : b;
  }

  classB() {
    const b = this.state.interp.classB;
    return b === null || b === undefined ? (this.state.cls + 1) % this.model.numClasses : b;
  }

  // ------------------------------------------------------------ latents
  /** The z the sliders edit: a projected drawing's (state.base), else the seed's. */
  baseZ() {
    if (this.state && this.state.base) return this.bases.get(this.state.base) || null;
    const raw = this.state && this.seeds.get(this.state.seed);
    return raw ? baseLatent(raw, this.limits.z) : null;
  }

  zEff() {
    const base = this.baseZ();
    return base && effectiveLatent(base, this.state.z, this.state.trunc, this.directions, this.state.dirs);
  }

  // ------------------------------------------------------------ drawing the sample
  /** A toy model's scatter as it stands: generated cloud, true modes, colours, axis limit. */
  scene() {
    return { cloud: this.cloud, modes: this.modes, colours: this.colours, limit: this.limits.plot };
  }

  /** The scene, with the cloud generated first for the current ψ. */
  async pointsScene() {
    if (!this.cloud || this.cloudTrunc !== this.state.trunc) {
      const trunc = this.state.trunc;
      this.cloud = await this.generator.generate(this.cloudZ.map((z) => scaled(z, trunc)), null, false);
      this.cloudTrunc = trunc;
    }
    return this.scene();
  }

  async drawSample() {
    const since = this.inputAt;
    this.inputAt = null;
    const z = this.zEff(), e = this.el;
    e.sample.classList.toggle("gx-waiting", !z);
    if (!z) { this.status(`Asking the server for seed ${this.state.seed}'s z…`); return; }
    if (e.status.textContent.startsWith("Asking")) this.status("");
    const t0 = performance.now();
    const cls = this.state.cls;
    const out = await this.generator.generate([z], [this.generator.emb(cls)], false);
    if (this.points) {
      drawPoints(e.sample, { ...(await this.pointsScene()), current: out });
      e.caption.textContent = `this z gives the point (${out[0].toFixed(2)}, ${out[1].toFixed(2)})`;
    } else {
      drawImage(e.sample, out, this.model.shape);
      const names = this.model.classNames;
      const around = this.state.base ? " (around your drawing's z)" : "";
      e.caption.textContent = (this.model.numClasses && names ? `sample — ${names[cls]}` : "sample") + around;
    }
    const now = performance.now();
    this.drawn += 1;
    e.sample.dataset.frame = String(this.drawn);
    e.timing.textContent = `drawn in your browser in ${(now - t0).toFixed(1)} ms`;
    e.sample.dispatchEvent(new CustomEvent("gx-drawn", {
      bubbles: true, composed: true, detail: { inputAt: since, drawnAt: now, frame: this.drawn } }));
  }
}
