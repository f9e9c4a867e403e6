// Steady warnings for the live picture: mode collapse, a winning discriminator, divergence. Each condition is
// read from every drawn frame, but a warning appears only once its condition has held for `onSeconds` and goes
// only once it has been false for `offSeconds` (hysteresis), so it never flickers. The thresholds come from
// gan_core.eval.diagnostics (sent by Python). The box has a fixed height, so nothing below it moves.

export function conditions(frame, setup, limits) {
  const out = {};
  const losses = frame.losses || {};
  const d = losses.d, g = losses.g; // null before the first step
  const known = d !== null && d !== undefined && g !== null && g !== undefined;
  if (known && (!Number.isFinite(d) || !Number.isFinite(g))) out.diverged = "the losses became NaN or infinite";
  else if (known && Math.max(Math.abs(d), Math.abs(g)) > limits.explodedLoss) out.diverged = `the losses exploded past ${limits.explodedLoss}`;
  const cov = frame.coverage;
  if (cov && frame.step >= limits.collapseMinStep && cov.modes_covered <= Math.floor(cov.num_modes / 2)) {
    out.collapse = `Mode collapse: the generator's points sit on only ${cov.modes_covered} of the ${cov.num_modes} modes.`;
  }
  const s = frame.scores;
  if (s && limits.probabilityLosses.includes(setup.loss) && s.real > limits.dWinningReal && s.fake < limits.dWinningFake) {
    out.dWinning = `The discriminator is winning: D(x) ≈ ${s.real.toFixed(2)} on real points and D(G(z)) ≈ ` +
      `${s.fake.toFixed(2)} on generated ones, so G's gradient is weak` +
      (setup.loss === "minimax" ? " (the saturating minimax loss; try non-saturating)." : ".");
  }
  return out;
}

export class Warnings {
  constructor(box, limits) {
    this.box = box;
    this.limits = limits;
    this.state = {}; // kind -> {shown, since (ms the condition has had its current truth), text}
    this.rendered = "";
  }

  reset() {
    this.state = {};
    this.render();
  }

  /** Feed one frame's conditions at time `now` (ms); returns the kinds shown. */
  update(found, now) {
    for (const kind of ["diverged", "collapse", "dWinning"]) {
      const on = kind in found;
      const st = this.state[kind] || (this.state[kind] = { shown: false, on: false, since: now, text: "" });
      if (on) st.text = found[kind];
      if (on !== st.on) { st.on = on; st.since = now; }
      const held = (now - st.since) / 1000;
      if (!st.shown && on && (kind === "diverged" || held >= this.limits.onSeconds)) st.shown = true;
      else if (st.shown && !on && held >= this.limits.offSeconds && kind !== "diverged") st.shown = false;
    }
    this.render();
    return Object.keys(this.state).filter((k) => this.state[k].shown);
  }

  render() {
    const items = [];
    const div = this.state.diverged;
    if (div && div.shown) items.push(["pg-warning pg-error", `Training diverged: ${div.text}. Press Reset, or lower the learning rates.`]);
    for (const kind of ["collapse", "dWinning"]) {
      const st = this.state[kind];
      if (st && st.shown) items.push(["pg-warning", st.text]);
    }
    const key = JSON.stringify(items);
    if (key === this.rendered) return;
    this.rendered = key;
    this.box.replaceChildren(...items.map(([cls, text]) => {
      const p = document.createElement("p");
      p.className = cls;
      p.title = text;
      p.textContent = text;
      p.dataset.kind = cls;
      return p;
    }));
  }
}
