// Draw -> latent: a drawing canvas under the explorer's sample (pen with a size, eraser, clear, and for colour
// models a small palette). "Find it in the GAN" sends the drawing as a PNG to Python (the explorer's trigger
// "sketch"), which projects it into the model's latent space (app_pages/explore/projection_view.py); the found
// z then comes back as the explorer's base, so the sample above shows the projection and the z sliders move
// around it. The canvas starts as the model's data looks (Python's data.sketch): light strokes on black for
// MNIST-like models, colour on white for colour models, at `scale` canvas pixels per model pixel.
//
// Beside the canvas it shows Python's data.sketch.result while the explorer starts from a projection: the
// student's image as the model sees it, the nearest training image, the distance and D(x).
//
// The section builds its own markup (class names gx-draw-*), so the element's HTML needs no change.

import { decodeF32 } from "../common/base64.js";
import { drawImage } from "./draw.js";

const SIZE_STEP = 0.5; // model pixels
const THUMB = "112px"; // the result's pictures, shown with crisp pixels

function make(tag, props = {}, style = {}) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  Object.assign(node.style, style);
  return node;
}

/** A small captioned picture for the result (canvas testid `testid`). */
function thumb(testid) {
  const figure = make("figure", {}, { margin: "0" });
  const canvas = make("canvas", { width: 1, height: 1 },
                      { width: THUMB, height: THUMB, imageRendering: "pixelated", borderRadius: "4px" });
  canvas.dataset.testid = testid;
  const caption = make("figcaption", { className: "gx-note" }, { maxWidth: "9rem", margin: "0.2rem 0 0" });
  figure.append(canvas, caption);
  return { figure, canvas, caption };
}

export class Sketch {
  /** A drawing section appended to `host`; `send(png)` hands the PNG (base64, no data: prefix) to the explorer. */
  constructor(host, send) {
    this.send = send;
    this.spec = null; this.colour = null; this.erasing = false; this.stroke = null; this.strokes = 0;
    this.waiting = null;
    this.box = make("section", { className: "gx-draw", hidden: true }, { marginTop: "1rem", width: "100%" });
    this.box.dataset.testid = "gx-draw";
    const title = make("h3", { textContent: "Draw → latent" }, { margin: "0 0 0.25rem" });
    this.hint = make("p", { className: "gx-hint" });
    this.canvas = make("canvas", { className: "gx-sketch" },
                       { width: "224px", height: "224px", borderRadius: "4px", cursor: "crosshair",
                         touchAction: "none", border: "1px solid var(--st-border-color, #d5d8de)" });
    this.canvas.dataset.testid = "gx-sketch";
    this.canvas.setAttribute("aria-label", "Drawing canvas: draw with the mouse, pen or finger");
    this.pen = make("button", { type: "button", className: "gx-draw-pen", textContent: "Pen" });
    this.eraser = make("button", { type: "button", className: "gx-draw-eraser", textContent: "Eraser" });
    this.size = make("input", { type: "range", className: "gx-draw-size", step: String(SIZE_STEP) });
    this.size.setAttribute("aria-label", "Pen size");
    this.sizeValue = make("output");
    const sizeField = make("label", { className: "gx-field gx-psi-field" });
    sizeField.append("Size", this.size, this.sizeValue);
    this.palette = make("div", { className: "gx-draw-palette" }, { display: "flex", gap: "0.25rem", flexWrap: "wrap" });
    this.clear = make("button", { type: "button", className: "gx-draw-clear", textContent: "Clear" });
    this.find = make("button", { type: "button", className: "gx-draw-find", textContent: "Find it in the GAN" },
                     { fontWeight: "600" });
    this.find.dataset.testid = "gx-draw-find";
    this.reply = make("p", { className: "gx-draw-reply gx-note" }, { margin: "0.4rem 0" });
    this.reply.dataset.testid = "gx-draw-reply";
    this.reply.setAttribute("role", "status");
    this.target = thumb("gx-draw-target");
    this.nearest = thumb("gx-draw-nearest");
    this.result = make("div", { hidden: true }, { display: "flex", flexDirection: "column", gap: "0.5rem" });
    this.result.append(this.target.figure, this.nearest.figure);
    this.resultText = make("p", { className: "gx-draw-result gx-note", hidden: true }, { margin: "0.4rem 0" });
    this.resultText.dataset.testid = "gx-draw-result";
    const pictures = make("div", {}, { display: "flex", gap: "1rem", alignItems: "flex-start" });
    pictures.append(this.canvas, this.result);
    const tools = make("div", { className: "gx-row" });
    tools.append(this.pen, this.eraser, sizeField, this.clear, this.find);
    this.box.append(title, this.hint, pictures, tools, this.palette, this.reply, this.resultText);
    host.append(this.box);
    this.bind();
  }

  bind() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => {
      if (!this.spec || e.button !== 0) return;
      e.preventDefault();
      c.setPointerCapture(e.pointerId);
      this.stroke = this.point(e);
      this.line(this.stroke, this.stroke);
    });
    c.addEventListener("pointermove", (e) => {
      if (!this.stroke) return;
      const p = this.point(e);
      this.line(this.stroke, p);
      this.stroke = p;
    });
    const end = () => {
      if (!this.stroke) return;
      this.stroke = null;
      this.strokes += 1;
      this.showTools();
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    this.pen.addEventListener("click", () => { this.erasing = false; this.showTools(); });
    this.eraser.addEventListener("click", () => { this.erasing = true; this.showTools(); });
    this.size.addEventListener("input", () => this.showTools());
    this.clear.addEventListener("click", () => this.wipe());
    this.find.addEventListener("click", () => this.submit());
  }

  /** Per model (Python's data.sketch, or null for a 2-D toy model, which has no picture to draw). */
  configure(spec) {
    this.spec = spec;
    this.box.hidden = !spec;
    if (!spec) return;
    this.canvas.width = spec.width; this.canvas.height = spec.height;
    this.canvas.style.width = `${spec.width}px`; this.canvas.style.height = `${spec.height}px`;
    this.colour = spec.pen; this.erasing = false;
    const [low, high, first] = spec.sizes;
    this.size.min = String(low); this.size.max = String(high); this.size.value = String(first);
    this.palette.replaceChildren(...(spec.palette || []).map((colour) => {
      const swatch = make("button", { type: "button", title: colour },
                          { width: "1.6rem", height: "1.6rem", padding: "0", background: colour });
      swatch.setAttribute("aria-label", `Pen colour ${colour}`);
      swatch.dataset.colour = colour;
      swatch.addEventListener("click", () => { this.colour = colour; this.erasing = false; this.showTools(); });
      return swatch;
    }));
    this.palette.hidden = !spec.palette;
    this.hint.textContent = (spec.palette ? "Draw a shape in colour on the white ground" :
      "Draw a light stroke on the black ground, as the training images look") +
      `, then find the z${spec.conditional ? " and class" : ""} whose image is closest. The sample above then ` +
      "starts from it: the z sliders move around your drawing.";
    this.reply.textContent = "";
    this.waiting = null;
    this.wipe();
  }

  /** Python's answer to a drawing ({nonce, error, text}); only the one for the drawing sent last is shown. */
  answer(reply) {
    if (!reply || this.waiting === null || reply.nonce !== this.waiting) return;
    this.waiting = null;
    this.reply.textContent = reply.error || "";
    this.reply.classList.toggle("gx-message", Boolean(reply.error));
    this.showTools();
  }

  /** The projection the explorer starts from (Python's data.sketch.result), or none: hidden. */
  show(result) {
    this.result.hidden = this.resultText.hidden = !result;
    if (!result) return;
    drawImage(this.target.canvas, decodeF32(result.target), this.spec.shape);
    this.target.caption.textContent = result.targetCaption;
    this.nearest.figure.hidden = !result.nearest;
    if (result.nearest) drawImage(this.nearest.canvas, decodeF32(result.nearest), this.spec.shape);
    this.nearest.caption.textContent = result.nearestCaption;
    this.resultText.textContent = result.text;
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * this.canvas.width / r.width, y: (e.clientY - r.top) * this.canvas.height / r.height };
  }

  line(a, b) {
    const ctx = this.canvas.getContext("2d");
    ctx.strokeStyle = this.erasing ? this.spec.background : this.colour;
    ctx.lineWidth = Number(this.size.value) * this.spec.scale;
    ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x + (a.x === b.x && a.y === b.y ? 0.01 : 0), b.y); // a click draws a dot
    ctx.stroke();
  }

  wipe() {
    if (!this.spec) return;
    const ctx = this.canvas.getContext("2d");
    ctx.fillStyle = this.spec.background;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.strokes = 0;
    this.showTools();
  }

  submit() {
    if (!this.spec || !this.strokes || this.waiting !== null) return;
    const png = this.canvas.toDataURL("image/png").split(",")[1];
    this.waiting = this.send(png);
    this.reply.classList.remove("gx-message");
    this.reply.textContent = "Finding your drawing in the GAN's latent space…";
    this.showTools();
  }

  showTools() {
    for (const [button, on] of [[this.pen, !this.erasing], [this.eraser, this.erasing]]) {
      button.setAttribute("aria-pressed", String(on));
      button.style.outline = on ? "2px solid var(--st-primary-color, #ff4b4b)" : "none";
    }
    this.sizeValue.textContent = Number(this.size.value).toFixed(1);
    for (const swatch of this.palette.children) {
      const on = !this.erasing && swatch.dataset.colour === this.colour;
      swatch.setAttribute("aria-pressed", String(on));
      swatch.style.outline = on ? "2px solid var(--st-primary-color, #ff4b4b)" : "none";
    }
    this.find.disabled = !this.strokes || this.waiting !== null;
    this.clear.disabled = !this.strokes;
  }
}
