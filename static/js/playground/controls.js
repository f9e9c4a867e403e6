// The set-up controls beside the picture: preset, data, loss, per-network optimiser / learning rate / β1, k, the
// penalties, label smoothing, batch and noise dimension. Their choices and limits come from Python (the browser
// spec of gan_core.teach.browser_spec); a value outside its limits is brought inside and the note says so.
// Every change goes to `onChange(field, value)` at once; the element applies it to the worker on the next frame.

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = String(value);
  o.textContent = label;
  select.append(o);
}

export class Controls {
  constructor(root, ui, onChange) {
    this.root = root;
    this.ui = ui;
    this.onChange = onChange;
    const $ = (sel) => root.querySelector(sel);
    this.note = $(".pg-note");
    this.preset = $(".pg-preset");
    this.presetText = $(".pg-preset-text");
    this.dataset = $(".pg-dataset");
    this.fields = new Map([...root.querySelectorAll("[data-setting]")].map((el) => [el.dataset.setting, el]));
    option(this.preset, "", "custom");
    for (const p of ui.presets) option(this.preset, p.slug, p.title);
    for (const d of ui.datasets) option(this.dataset, d.name, d.label);
    for (const l of ui.losses) option(this.fields.get("loss"), l.name, l.label);
    for (const sel of root.querySelectorAll(".pg-opt")) for (const o of ui.optimizers) option(sel, o, o === "adam" ? "Adam" : "SGD");
    for (const z of ui.zDims) option(this.fields.get("z_dim"), z, `${z}-D`);
    for (const [field, el] of this.fields) {
      const lim = ui.limits[field];
      if (lim && el.tagName === "INPUT") { el.min = String(lim[0]); el.max = String(lim[1]); }
      el.addEventListener("change", () => this.changed(field, el));
    }
    this.dataset.addEventListener("change", () => this.onChange("dataset", this.dataset.value));
    this.preset.addEventListener("change", () => this.onChange("preset", this.preset.value || null));
  }

  changed(field, el) {
    let value = el.value;
    if (el.tagName === "INPUT" || field === "z_dim") {
      value = Number(el.value);
      const lim = this.ui.limits[field];
      const whole = this.ui.wholeNumbers.includes(field);
      if (!Number.isFinite(value)) {
        this.note.textContent = `${field}: not a number; kept ${this.current[field]}.`;
        el.value = String(this.current[field]);
        return;
      }
      if (whole) value = Math.round(value);
      if (lim && (value < lim[0] || value > lim[1])) {
        const kept = Math.min(lim[1], Math.max(lim[0], value));
        this.note.textContent = `${field} must lie in ${lim[0]}..${lim[1]}; set to ${kept}.`;
        value = kept;
        el.value = String(value);
      } else {
        this.note.textContent = "";
      }
    }
    this.onChange(field, value);
  }

  /** Show a set-up in the controls (after a preset, a link or a reset). */
  show(setup, presetSlug) {
    this.current = setup;
    for (const [field, el] of this.fields) if (setup[field] !== undefined) el.value = String(setup[field]);
    this.dataset.value = setup.dataset;
    this.preset.value = presetSlug || "";
    const preset = this.ui.presets.find((p) => p.slug === presetSlug);
    this.presetText.textContent = preset ? preset.description : "";
    const loss = this.ui.losses.find((l) => l.name === setup.loss);
    this.fields.get("gp_weight").disabled = !(loss && loss.gradientPenalty);
  }
}
