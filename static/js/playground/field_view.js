// Draws one picture of the 2-D game from the latest worker frame: D's heat map, G's manifold, the real points,
// the generated points and G's gradient arrows. Called on every animation frame that has a new worker frame,
// so the picture is always the current training state (no recorded frames played back).

import { decodeBytes } from "../common/base64.js";

const ARROWS = 64; // arrows drawn at most (the server's static plot draws as many)
const ARROW_SHARE = 0.1; // the longest arrow is this share of the view's width

export class FieldView {
  /** @param {HTMLCanvasElement} canvas @param {object} palette colours from gan_core.io.palette (via Python) */
  constructor(canvas, palette) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.palette = palette;
    this.lut = decodeBytes(palette.lut); // 256 RGB triples, already blended over white
    this.grid = null;
    this.show = { surface: true, arrows: true, manifold: true, real: true };
    this.extent = 3;
    this.real = new Float32Array(0);
  }

  /** Canvas pixels of a data point (y up). */
  toPixel(x, y) {
    const e = this.extent, w = this.canvas.width, h = this.canvas.height;
    return [((x + e) / (2 * e)) * w, ((e - y) / (2 * e)) * h];
  }

  /** Data coordinates of a canvas pixel (for drawing your own points). */
  toData(px, py) {
    const e = this.extent, w = this.canvas.width, h = this.canvas.height;
    return [(px / w) * 2 * e - e, e - (py / h) * 2 * e];
  }

  surfaceImage(values, gridSize, probability) {
    if (!this.grid || this.grid.width !== gridSize) {
      this.grid = new OffscreenCanvas(gridSize, gridSize);
      this.gridCtx = this.grid.getContext("2d");
      this.gridPixels = this.gridCtx.createImageData(gridSize, gridSize);
    }
    let lo = 0, hi = 1;
    if (!probability) {
      lo = Infinity; hi = -Infinity;
      for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
      if (!(hi > lo)) { lo -= 1; hi += 1; }
    }
    const px = this.gridPixels.data, scale = 255 / (hi - lo);
    for (let i = 0; i < gridSize; i += 1) { // row i of the surface is y = -e + i·step: drawn bottom-up
      const row = (gridSize - 1 - i) * gridSize;
      for (let j = 0; j < gridSize; j += 1) {
        const level = Math.max(0, Math.min(255, Math.round((values[i * gridSize + j] - lo) * scale)));
        const o = 4 * (row + j);
        px[o] = this.lut[3 * level]; px[o + 1] = this.lut[3 * level + 1]; px[o + 2] = this.lut[3 * level + 2];
        px[o + 3] = 255;
      }
    }
    this.gridCtx.putImageData(this.gridPixels, 0, 0);
    return this.grid;
  }

  /** @param {object} frame the worker's frame @param {{gridSize:number, manifoldSize:number, probability:boolean}} view */
  draw(frame, view) {
    const { ctx, canvas, palette } = this;
    const w = canvas.width, h = canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, w, h);
    if (this.show.surface && frame.surface) {
      const g = view.gridSize;
      const image = this.surfaceImage(frame.surface, g, view.probability);
      // the grid's values sit at linspace(-e, e, g): texel centres go exactly there
      const cell = w / (g - 1);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(image, -cell / 2, -cell / 2, w + cell, h + cell);
    }
    if (this.show.manifold && frame.manifold) this.drawManifold(frame.manifold, view.manifoldSize);
    if (this.show.real && this.real.length) this.drawDots(this.real, 2.2, palette.real, null, 0.55);
    if (frame.fake) this.drawDots(frame.fake, 3.6, palette.fake, palette.fakeOutline, 0.95);
    if (this.show.arrows && frame.arrows && frame.fake) this.drawArrows(frame.fake, frame.arrows);
  }

  drawDots(points, radius, fill, outline, alpha) {
    const { ctx } = this;
    ctx.globalAlpha = alpha;
    ctx.beginPath();
    for (let i = 0; i + 1 < points.length; i += 2) {
      const [x, y] = this.toPixel(points[i], points[i + 1]);
      ctx.moveTo(x + radius, y);
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
    }
    ctx.fillStyle = fill;
    ctx.fill();
    if (outline) {
      ctx.lineWidth = 0.8;
      ctx.strokeStyle = outline;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  drawManifold(m, n) {
    const { ctx } = this;
    ctx.globalAlpha = 0.6;
    ctx.strokeStyle = this.palette.manifold;
    ctx.lineWidth = 0.8;
    ctx.beginPath();
    const at = (i, j) => this.toPixel(m[2 * (i * n + j)], m[2 * (i * n + j) + 1]);
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < n; j += 1) {
        const [x, y] = at(i, j);
        if (j === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      for (let j = 0; j < n; j += 1) {
        const [x, y] = at(j, i);
        if (j === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  drawArrows(fake, arrows) {
    const { ctx } = this;
    const n = Math.min(ARROWS, Math.floor(Math.min(fake.length, arrows.length) / 2));
    let longest = 0;
    for (let i = 0; i < n; i += 1) longest = Math.max(longest, Math.hypot(arrows[2 * i], arrows[2 * i + 1]));
    if (!(longest > 0) || !Number.isFinite(longest)) return;
    const unit = (ARROW_SHARE * this.canvas.width) / longest; // pixels per gradient unit
    ctx.strokeStyle = this.palette.arrow;
    ctx.fillStyle = this.palette.arrow;
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    for (let i = 0; i < n; i += 1) {
      const [x, y] = this.toPixel(fake[2 * i], fake[2 * i + 1]);
      const dx = arrows[2 * i] * unit, dy = -arrows[2 * i + 1] * unit;
      const len = Math.hypot(dx, dy);
      if (len < 0.5) continue;
      const tx = x + dx, ty = y + dy, ux = dx / len, uy = dy / len, head = Math.min(5, len / 2);
      ctx.moveTo(x, y); ctx.lineTo(tx, ty);
      ctx.moveTo(tx - head * (ux - 0.5 * uy), ty - head * (uy + 0.5 * ux));
      ctx.lineTo(tx, ty);
      ctx.lineTo(tx - head * (ux + 0.5 * uy), ty - head * (uy - 0.5 * ux));
    }
    ctx.stroke();
  }
}

/** A cheap fingerprint of a typed array (tests and benchmarks tell frames apart by it). */
export function checksum(values) {
  if (!values) return 0;
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) sum += values[i] * ((i % 7) + 1);
  return Math.round(sum * 1e4) / 1e4;
}
