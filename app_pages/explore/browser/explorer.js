// The in-browser latent explorer: the generator runs here (ONNX Runtime Web), so the image follows
// the hand on every `input` event and nothing is sent to the server while a slider moves. Python
// learns the state once a move ends (component state "view", debounced), so the URL, D(x), the
// memorisation check and the downloads see the canvas's z and class. The server sends each seed's z
// (the same numbers Python uses); a seed whose z is not known yet is asked for with that state.

const COMMIT_MS = 300;
const ANIM_FRAMES = 24;
const CHUNK = 12; // images per run while a newer input may be waiting
const GRID_COLUMNS = 6;

class Explorer {
  constructor(root) {
    const $ = (sel) => root.querySelector(sel);
    this.root = root;
    this.el = {
      status: $(".gx-status"), message: $(".gx-message"), seed: $(".gx-seed"), random: $(".gx-random"),
      reset: $(".gx-reset"), cls: $(".gx-class"), classField: $(".gx-class-field"), psi: $(".gx-psi"),
      psiValue: $(".gx-psi-value"), psi0: $(".gx-psi0"), zBox: $(".gx-z"), dirBox: $(".gx-dirs"),
      sample: $(".gx-sample"), caption: $(".gx-caption"), timing: $(".gx-timing"), gridBox: $(".gx-grid-box"),
      grid: $(".gx-grid"), mode: $(".gx-mode"), modeField: $(".gx-mode-field"), seedB: $(".gx-seedb"),
      seedBField: $(".gx-seedb-field"), classB: $(".gx-classb"), classBField: $(".gx-classb-field"),
      method: $(".gx-method"), methodField: $(".gx-method-field"), steps: $(".gx-steps"),
      stepsValue: $(".gx-steps-value"), interpLabel: $(".gx-interp-label"), strip: $(".gx-strip"),
      anim: $(".gx-anim"), play: $(".gx-play"), speed: $(".gx-speed"), speedValue: $(".gx-speed-value"),
      tabs: root.querySelectorAll("[role=tab]"), panels: root.querySelectorAll("[data-panel]"),
    };
    this.need = {}; this.busy = false; this.nonce = 0; this.dirty = false; this.timer = null;
    this.seeds = new Map(); this.pool = []; this.playing = true; this.animFrames = null; this.frame = 0;
    this.drawn = 0; this.inputAt = null; this.others = null; this.cloud = null; this.gen = null;
    this.bind();
    this.loop = this.loop.bind(this);
    this.raf = null;
  }

  /** The focused control inside this element (the shadow root knows it; document only sees the host). */
  active() {
    return this.root.activeElement || document.activeElement;
  }

  // ------------------------------------------------------------ data from Python
  update(args) {
    this.args = args;
    const d = args.data;
    const first = !this.model;
    const newModel = first || d.model.sha256 !== this.model.sha256 || d.model.name !== this.model.name;
    for (const [seed, b64] of Object.entries(d.seeds)) this.seeds.set(Number(seed), decodeF32(b64));
    this.pool = d.pool.slice();
    if (newModel) {
      clearTimeout(this.timer);
      this.dirty = false;
      this.nonce = d.ack;
      this.setModel(d);
    }
    if (this.raf === null) this.raf = requestAnimationFrame(this.loop);
    if (newModel || (d.ack === this.nonce && !this.dirty)) this.state = structuredClone(d.state);
    this.showControls();
    this.schedule("sample", "grid", "strip", "anim");
  }

  setModel(d) {
    const m = d.model;
    this.model = m; this.limits = d.limits; this.dims = d.dims; this.gen = null;
    this.shape = m.shape; this.points = m.output === "points";
    this.embedding = m.embedding ? rows(decodeF32(m.embedding), m.embedDim) : null;
    this.directions = { vectors: rows(decodeF32(d.directions.vectors), m.zDim), scales: Float32Array.from(d.directions.scales) };
    this.cloudZ = d.cloud ? rows(decodeF32(d.cloud), m.zDim) : null;
    this.modes = d.modes; this.colours = d.palette; this.others = null; this.cloud = null;
    const L = d.limits;
    this.el.zBox.replaceChildren();
    this.zSliders = new Map(d.dims.map((dim) => [dim, makeSlider(this.el.zBox, `z[${dim}]`, -L.z, L.z,
      (v) => this.moveZ(dim, v), (key) => this.commit(key ? COMMIT_MS : 0))]));
    this.el.dirBox.replaceChildren();
    this.dirSliders = d.directions.explained.map((share, k) => {
      const s = makeSlider(this.el.dirBox, `PC${k + 1}`, -L.dir, L.dir, (v) => this.moveDir(k, v),
                           (key) => this.commit(key ? COMMIT_MS : 0));
      s.input.title = `Principal component ${k + 1}: ${(100 * share).toFixed(1)}% of the (within-class) variance ` +
                      "of one of the generator's early layers. Values are in standard deviations.";
      return s;
    });
    this.el.psi.min = String(L.trunc[0]); this.el.psi.max = String(L.trunc[1]); this.el.psi.step = "any";
    this.el.seed.max = String(L.seedMax); this.el.seedB.max = String(L.seedMax);
    const conditional = Boolean(m.numClasses) && !this.points;
    this.el.classField.hidden = !m.numClasses;
    this.el.gridBox.hidden = !conditional;
    if (m.numClasses) {
      fillOptions(this.el.cls, m.classNames, 0);
      fillOptions(this.el.classB, m.classNames, 1);
    }
    this.el.mode.querySelector("[value=classes]").hidden = !conditional;
    this.el.sample.classList.toggle("gx-points", this.points);
    this.el.anim.classList.toggle("gx-points", this.points);
    if (this.points) { this.el.sample.width = this.el.sample.height = 360; this.el.anim.width = this.el.anim.height = 240; }
    this.status(`Loading the in-browser generator for ${m.name} (ONNX Runtime Web ${d.runtime.version}; about ` +
                `${Math.round((d.runtime.wasmBytes + m.bytes) / 1e6)} MB the first time, then kept by this browser)…`);
    const wanted = m.sha256;
    loadRuntime(d.runtime).then((ort) => loadModel(ort, m)).then((gen) => {
      if (this.model.sha256 !== wanted) return;
      this.gen = gen;
      this.status("");
      this.schedule("sample", "grid", "strip", "anim");
    }).catch((err) => this.fail(err));
  }

  fail(err) {
    console.error("gan-explorer:", err);
    const reason = String(err && err.message ? err.message : err).slice(0, 200);
    this.status(`The in-browser generator could not start (${reason}); switching to images drawn on the server…`, true);
    this.args.setTriggerValue("failed", reason);
  }

  status(text, error = false) {
    this.el.status.textContent = text;
    this.el.status.classList.toggle("gx-error", error);
  }

  // ------------------------------------------------------------ controls -> state
  bind() {
    const e = this.el;
    e.seed.addEventListener("change", () => this.setSeed(e.seed.value));
    e.random.addEventListener("click", () => {
      const known = this.pool.filter((s) => s !== this.state.seed && this.seeds.has(s));
      this.setSeed(String(known.length ? known[0] : Math.floor(Math.random() * 100000)));
    });
    e.reset.addEventListener("click", () => {
      Object.assign(this.state, { z: {}, dirs: {}, trunc: 1 });
      this.changed(true, "sample", "grid", "strip", "anim");
    });
    e.cls.addEventListener("change", () => { this.state.cls = Number(e.cls.value); this.changed(true, "sample", "grid", "strip", "anim"); });
    e.psi.addEventListener("input", () => { this.state.trunc = quantize(Number(e.psi.value)); this.changed(false, "sample", "grid", "strip", "anim"); });
    e.psi.addEventListener("change", () => this.commit(0));
    e.psi.addEventListener("keydown", (event) => this.psiKey(event));
    e.tabs.forEach((tab) => tab.addEventListener("click", () => {
      e.tabs.forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
      e.panels.forEach((p) => { p.hidden = p.dataset.panel !== tab.dataset.tab; });
    }));
    e.gridBox.addEventListener("toggle", () => this.schedule("grid"));
    const interp = (key, value) => { this.state.interp[key] = value; this.changed(true, "strip", "anim"); };
    e.mode.addEventListener("change", () => interp("mode", e.mode.value));
    e.classB.addEventListener("change", () => interp("classB", Number(e.classB.value)));
    e.method.addEventListener("change", () => interp("method", e.method.value));
    e.steps.addEventListener("input", () => { this.state.interp.steps = Number(e.steps.value); this.changed(false, "strip"); });
    e.steps.addEventListener("change", () => this.commit(COMMIT_MS));
    e.seedB.addEventListener("change", () => {
      const parsed = parseSeed(e.seedB.value, this.limits.seedMax);
      this.message(parsed.error ? `Seed B: ${parsed.error} Still using seed ${this.seedB()}.` : "");
      if (parsed.error) { e.seedB.value = String(this.seedB()); return; }
      this.state.interp.seedB = parsed.value;
      this.changed(!this.seeds.has(parsed.value), "strip", "anim");
    });
    e.play.addEventListener("click", () => { this.playing = !this.playing; this.showControls(); });
    e.speed.addEventListener("input", () => this.showControls());
  }

  psiKey(event) {
    const [lo, hi] = this.limits.trunc;
    const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 5, PageDown: -5 }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    this.state.trunc = quantize(Math.min(hi, Math.max(lo, this.state.trunc + step * (hi - lo) / 50)));
    this.changed(false, "sample", "grid", "strip", "anim");
    this.commit(COMMIT_MS);
  }

  setSeed(text) {
    const parsed = parseSeed(text, this.limits.seedMax);
    if (parsed.error) {
      this.message(`${parsed.error} Still showing seed ${this.state.seed}.`);
      this.el.seed.value = String(this.state.seed);
      return;
    }
    this.message("");
    Object.assign(this.state, { seed: parsed.value, z: {}, dirs: {} }); // a new seed is a new z
    this.changed(true, "sample", "grid", "strip", "anim");
  }

  moveZ(dim, v) {
    const base = this.baseZ();
    if (base && Math.abs(v - base[dim]) <= 1e-6) delete this.state.z[dim];
    else this.state.z[dim] = v;
    this.changed(false, "sample", "grid", "strip", "anim");
  }

  moveDir(k, v) {
    if (v === 0) delete this.state.dirs[k];
    else this.state.dirs[k] = v;
    this.changed(false, "sample", "grid", "strip", "anim");
  }

  /** A local change: draw it now; tell Python now (a discrete choice) or when the move ends. */
  changed(commitNow, ...what) {
    if (this.inputAt === null) this.inputAt = performance.now();
    this.dirty = true;
    this.showControls();
    this.schedule(...what);
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

  message(text) {
    this.el.message.textContent = text;
    this.el.message.hidden = !text;
  }

  // ------------------------------------------------------------ state -> controls
  showControls() {
    const s = this.state, e = this.el;
    if (!s) return;
    const base = this.baseZ();
    if (this.active() !== e.seed) e.seed.value = String(s.seed);
    e.psi.value = String(s.trunc);
    e.psiValue.textContent = s.trunc.toFixed(2);
    if (this.model.numClasses) e.cls.value = String(s.cls);
    const psi0 = s.trunc === 0;
    e.psi0.hidden = !psi0;
    const held = this.active();
    for (const [dim, slider] of this.zSliders) {
      slider.input.disabled = psi0;
      if (slider.input === held) continue; // never move the thumb under the user's hand
      const v = dim in s.z ? s.z[dim] : base ? base[dim] : 0;
      if (Number(slider.input.value) !== v) slider.set(v);
    }
    this.dirSliders.forEach((slider, k) => {
      if (slider.input === held) return;
      const v = s.dirs[k] || 0;
      if (quantize(Number(slider.input.value)) !== v) slider.set(v);
    });
    const it = s.interp, conditional = this.model.numClasses && !this.points;
    const mode = conditional ? it.mode : "seeds";
    e.mode.value = mode;
    e.modeField.hidden = !conditional;
    e.seedBField.hidden = e.methodField.hidden = mode !== "seeds";
    e.classBField.hidden = mode !== "classes";
    if (this.active() !== e.seedB) e.seedB.value = String(this.seedB());
    if (conditional) e.classB.value = String(this.classB());
    e.method.value = it.method;
    e.steps.value = String(it.steps);
    e.stepsValue.textContent = String(it.steps);
    e.play.textContent = this.playing ? "Pause" : "Play";
    e.speedValue.textContent = `${e.speed.value} fps`;
  }

  seedB() {
    const b = this.state.interp.seedB;
    return b === null || b === undefined ? (this.state.seed + 1) % (this.limits.seedMax + 1) : b;
  }

  classB() {
    const b = this.state.interp.classB, k = this.model.numClasses;
    return b === null || b === undefined ? (this.state.cls + 1) % k : b;
  }

  // ------------------------------------------------------------ latents -> generator input rows
  baseZ() {
    const raw = this.state && this.seeds.get(this.state.seed);
    return raw ? baseLatent(raw, this.limits.z) : null;
  }

  zEff() {
    const base = this.baseZ();
    return base && effectiveLatent(base, this.state.z, this.state.trunc, this.directions, this.state.dirs);
  }

  /** The generator's input: z, then (conditional models) the class embedding, which lets classes blend. */
  input(zs, embs) {
    const width = this.model.zDim + (this.embedding ? this.model.embedDim : 0);
    const flat = new Float32Array(zs.length * width);
    zs.forEach((z, i) => {
      flat.set(z, i * width);
      if (this.embedding) flat.set(embs[i], i * width + this.model.zDim);
    });
    return flat;
  }

  /** Outputs for rows of (z, embedding), in chunks; null when a newer input arrived in between. */
  async generate(zs, embs, interruptible = true) {
    const per = this.points ? 2 : this.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(zs.length * per);
    for (let i = 0; i < zs.length; i += CHUNK) {
      if (interruptible && this.need.sample) return null;
      const n = Math.min(CHUNK, zs.length - i);
      const part = await this.gen.run(this.input(zs.slice(i, i + n), embs && embs.slice(i, i + n)), n);
      out.set(part, i * per);
    }
    return out;
  }

  emb(cls) { return this.embedding ? this.embedding[cls] : null; }

  // ------------------------------------------------------------ drawing
  schedule(...what) {
    for (const w of what) this.need[w] = true;
    if (!this.busy) this.pump();
  }

  async pump() {
    this.busy = true;
    try {
      for (const step of ["sample", "grid", "strip", "anim", "sample"]) {
        while (this.gen && this.need.sample) { this.need.sample = false; await this.drawSample(); }
        if (step !== "sample" && this.gen && this.need[step]) {
          this.need[step] = false;
          if (!(await this[`draw_${step}`]())) this.need[step] = true;
        }
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
    if (this.gen && Object.values(this.need).some(Boolean)) setTimeout(() => this.schedule(), 0);
  }

  async drawSample() {
    const since = this.inputAt;
    this.inputAt = null;
    const z = this.zEff();
    const waiting = !z;
    this.el.sample.classList.toggle("gx-waiting", waiting);
    if (waiting) { this.status(`Asking the server for seed ${this.state.seed}'s z…`); return; }
    if (this.el.status.textContent.startsWith("Asking")) this.status("");
    const t0 = performance.now();
    const cls = this.state.cls;
    const out = await this.generate([z], [this.emb(cls)], false);
    if (this.points) {
      await this.ensureCloud();
      drawPoints(this.el.sample, { cloud: this.cloud, modes: this.modes, current: out, colours: this.colours });
      this.el.caption.textContent = `this z gives the point (${out[0].toFixed(2)}, ${out[1].toFixed(2)})`;
    } else {
      drawImage(this.el.sample, out, this.shape);
      const names = this.model.classNames;
      this.el.caption.textContent = this.model.numClasses && names ? `sample — ${names[cls]}` : "sample";
    }
    const now = performance.now();
    this.drawn += 1;
    this.el.sample.dataset.frame = String(this.drawn);
    this.el.timing.textContent = `drawn in your browser in ${(now - t0).toFixed(1)} ms`;
    this.el.sample.dispatchEvent(new CustomEvent("gx-drawn", {
      bubbles: true, composed: true, detail: { inputAt: since, drawnAt: now, frame: this.drawn } }));
  }

  async ensureCloud() {
    if (this.cloud && this.cloudTrunc === this.state.trunc) return;
    const zs = this.cloudZ.map((z) => scaled(z, this.state.trunc));
    this.cloud = await this.generate(zs, null, false);
    this.cloudTrunc = this.state.trunc;
  }

  draw_grid() { return drawGridPanel(this); }

  draw_strip() { return drawStripPanel(this); }

  draw_anim() { return computeAnimation(this); }

  /** The animation: back and forth along the path at the chosen speed (requestAnimationFrame). */
  loop(now) {
    if (!this.root.isConnected) { this.raf = null; return; } // unmounted: stop (update() restarts it)
    this.raf = requestAnimationFrame(this.loop);
    if (!this.animFrames || !this.playing) return;
    const fps = Number(this.el.speed.value);
    if (this.lastTick && now - this.lastTick < 1000 / fps) return;
    this.lastTick = now;
    const period = 2 * (ANIM_FRAMES - 1);
    this.frame = (this.frame + 1) % period;
    const i = this.frame < ANIM_FRAMES ? this.frame : period - this.frame;
    if (this.points) {
      drawPoints(this.el.anim, { cloud: this.cloud, modes: this.modes, current: this.animFrames.subarray(2 * i, 2 * i + 2),
                                 colours: this.colours });
    } else {
      drawImage(this.el.anim, this.animFrames, this.shape, i);
    }
  }
}

const instances = new WeakMap();

export default function (args) {
  let explorer = instances.get(args.parentElement);
  if (!explorer) {
    explorer = new Explorer(args.parentElement);
    instances.set(args.parentElement, explorer);
  }
  explorer.update(args);
  // No cleanup function: Streamlit may call a stale one while this element lives on; the animation
  // loop stops by itself once the element leaves the page.
}
