// The explorer's controls, both ways: user input -> a change of the explorer's state (bindControls), and
// the state -> what the controls show (showControls). The z and direction sliders are made per model
// (makeControlSliders), with the limits Python sends.

import { fillOptions, makeSlider, quantize } from "./sliders.js";
import { parseSeed } from "./seed.js";

const COMMIT_MS = 300; // a keyboard step is sent to Python once the keys rest this long
const ALL = ["sample", "grid", "strip", "anim"];
const PSI_KEYS = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 5, PageDown: -5 };

/** Sliders for the shown z dimensions and for every direction, inside their boxes. */
export function makeControlSliders(ex, dims, explained) {
  const L = ex.limits, e = ex.el;
  const done = (key) => ex.commit(key ? COMMIT_MS : 0);
  e.zBox.replaceChildren();
  ex.zSliders = new Map(dims.map((dim) => [dim, makeSlider(e.zBox, `z[${dim}]`, -L.z, L.z,
    (v) => moveZ(ex, dim, v), done)]));
  e.dirBox.replaceChildren();
  ex.dirSliders = explained.map((share, k) => {
    const s = makeSlider(e.dirBox, `PC${k + 1}`, -L.dir, L.dir, (v) => moveDir(ex, k, v), done);
    s.input.title = `Principal component ${k + 1}: ${(100 * share).toFixed(1)}% of the (within-class) variance ` +
                    "of one of the generator's early layers. Values are in standard deviations.";
    return s;
  });
  e.psi.min = String(L.trunc[0]); e.psi.max = String(L.trunc[1]); e.psi.step = "any";
  e.steps.min = String(L.steps[0]); e.steps.max = String(L.steps[1]);
  if (ex.model.numClasses) {
    fillOptions(e.cls, ex.model.classNames, 0);
    fillOptions(e.classB, ex.model.classNames, 1);
  }
}

function moveZ(ex, dim, v) {
  const base = ex.baseZ();
  if (base && Math.abs(v - base[dim]) <= 1e-6) delete ex.state.z[dim];
  else ex.state.z[dim] = v;
  ex.changed(false, ...ALL);
}

function moveDir(ex, k, v) {
  if (v === 0) delete ex.state.dirs[k];
  else ex.state.dirs[k] = v;
  ex.changed(false, ...ALL);
}

function setSeed(ex, text) {
  const parsed = parseSeed(text, ex.limits.seedMax);
  if (parsed.error) {
    ex.message(`${parsed.error} Still showing seed ${ex.state.seed}.`);
    ex.el.seed.value = String(ex.state.seed);
    return;
  }
  Object.assign(ex.state, { seed: parsed.value, z: {}, dirs: {}, base: null }); // a new seed is a new z (not a drawing's)
  ex.changed(true, ...ALL);
}

function randomSeed(ex) {
  const known = ex.pool.filter((s) => s !== ex.state.seed && ex.seeds.has(s));
  return known.length ? known[0] : Math.floor(Math.random() * ex.limits.randomSeeds);
}

function psiKey(ex, event) {
  const [lo, hi] = ex.limits.trunc;
  const step = PSI_KEYS[event.key];
  if (step === undefined) return;
  event.preventDefault();
  ex.state.trunc = quantize(Math.min(hi, Math.max(lo, ex.state.trunc + step * (hi - lo) / 50)));
  ex.changed(false, ...ALL);
  ex.commit(COMMIT_MS);
}

function setSeedB(ex) {
  const parsed = parseSeed(ex.el.seedB.value, ex.limits.seedMax);
  if (parsed.error) {
    ex.message(`Seed B: ${parsed.error} Still using seed ${ex.seedB()}.`);
    ex.el.seedB.value = String(ex.seedB());
    return;
  }
  ex.state.interp.seedB = parsed.value;
  ex.changed(!ex.seeds.has(parsed.value), "strip", "anim");
}

/** Every control's listener: each turns an input into a state change (ex.changed) or a view change. */
export function bindControls(ex) {
  const e = ex.el;
  e.seed.addEventListener("change", () => setSeed(ex, e.seed.value));
  e.random.addEventListener("click", () => setSeed(ex, String(randomSeed(ex))));
  e.reset.addEventListener("click", () => {
    Object.assign(ex.state, { z: {}, dirs: {}, trunc: 1 });
    ex.changed(true, ...ALL);
  });
  e.cls.addEventListener("change", () => { ex.state.cls = Number(e.cls.value); ex.changed(true, ...ALL); });
  e.psi.addEventListener("input", () => { ex.state.trunc = quantize(Number(e.psi.value)); ex.changed(false, ...ALL); });
  e.psi.addEventListener("change", () => ex.commit(0));
  e.psi.addEventListener("keydown", (event) => psiKey(ex, event));
  e.tabs.forEach((tab) => tab.addEventListener("click", () => {
    e.tabs.forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    e.panels.forEach((p) => { p.hidden = p.dataset.panel !== tab.dataset.tab; });
  }));
  e.gridBox.addEventListener("toggle", () => ex.queue.schedule("grid"));
  const interp = (key, value) => { ex.state.interp[key] = value; ex.changed(true, "strip", "anim"); };
  e.mode.addEventListener("change", () => interp("mode", e.mode.value));
  e.classB.addEventListener("change", () => interp("classB", Number(e.classB.value)));
  e.method.addEventListener("change", () => interp("method", e.method.value));
  e.steps.addEventListener("input", () => { ex.state.interp.steps = Number(e.steps.value); ex.changed(false, "strip"); });
  e.steps.addEventListener("change", () => ex.commit(COMMIT_MS));
  e.seedB.addEventListener("change", () => setSeedB(ex));
  e.play.addEventListener("click", () => { ex.animation.playing = !ex.animation.playing; showControls(ex); });
  e.speed.addEventListener("input", () => showControls(ex));
}

/** The controls show the state; a control under the user's hand (focused) is never moved. */
export function showControls(ex) {
  const s = ex.state, e = ex.el;
  if (!s) return;
  const base = ex.baseZ();
  const held = ex.active();
  if (held !== e.seed) e.seed.value = String(s.seed);
  e.psi.value = String(s.trunc);
  e.psiValue.textContent = s.trunc.toFixed(2);
  if (ex.model.numClasses) e.cls.value = String(s.cls);
  const psi0 = s.trunc === 0;
  e.psi0.hidden = !psi0;
  for (const [dim, slider] of ex.zSliders) {
    slider.input.disabled = psi0;
    if (slider.input === held) continue;
    const v = dim in s.z ? s.z[dim] : base ? base[dim] : 0;
    if (Number(slider.input.value) !== v) slider.set(v);
  }
  ex.dirSliders.forEach((slider, k) => {
    if (slider.input === held) return;
    const v = s.dirs[k] || 0;
    if (quantize(Number(slider.input.value)) !== v) slider.set(v);
  });
  const it = s.interp, conditional = ex.conditional();
  const mode = conditional ? it.mode : "seeds";
  e.mode.value = mode;
  e.modeField.hidden = !conditional;
  e.seedBField.hidden = e.methodField.hidden = mode !== "seeds";
  e.classBField.hidden = mode !== "classes";
  if (held !== e.seedB) e.seedB.value = String(ex.seedB());
  if (conditional) e.classB.value = String(ex.classB());
  e.method.value = it.method;
  e.steps.value = String(it.steps);
  e.stepsValue.textContent = String(it.steps);
  e.play.textContent = ex.animation.playing ? "Pause" : "Play";
  e.speedValue.textContent = `${e.speed.value} fps`;
}
