// Native range sliders and select options with keyboard steps big enough to see: an arrow key moves 1/50 of the range,
// Page Up/Down 1/10, Home/End to the ends. Values are kept to two decimals, so a link (which writes
// four) reopens exactly the value on the screen.

export const quantize = (v) => Math.round(v * 100) / 100;

/** A labelled <input type="range"> (step "any", so a seed's own value is shown as it is, not snapped). */
export function makeSlider(container, label, min, max, onMove, onDone) {
  const row = document.createElement("label");
  row.className = "gx-slider";
  const name = document.createElement("span");
  name.textContent = label;
  const input = document.createElement("input");
  input.type = "range";
  input.min = String(min);
  input.max = String(max);
  input.step = "any";
  input.setAttribute("aria-label", label);
  const out = document.createElement("output");
  row.append(name, input, out);
  container.append(row);
  const show = (v) => { out.textContent = v.toFixed(2); };
  const set = (v) => { input.value = String(v); show(v); };
  input.addEventListener("input", () => {
    const v = quantize(Number(input.value));
    show(v);
    onMove(v);
  });
  input.addEventListener("change", () => onDone(false));
  input.addEventListener("keydown", (event) => {
    const range = max - min;
    const steps = { ArrowRight: range / 50, ArrowUp: range / 50, ArrowLeft: -range / 50, ArrowDown: -range / 50,
                    PageUp: range / 10, PageDown: -range / 10 };
    let v;
    if (event.key in steps) v = Number(input.value) + steps[event.key];
    else if (event.key === "Home") v = min;
    else if (event.key === "End") v = max;
    else return;
    event.preventDefault();
    v = quantize(Math.min(max, Math.max(min, v)));
    set(v);
    onMove(v);
    onDone(true);
  });
  return { input, set };
}

export function fillOptions(select, names, selected) {
  select.replaceChildren(...names.map((name, i) => {
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = name === String(i) ? name : `${i}: ${name}`;
    return option;
  }));
  select.value = String(selected);
}
