// Drawing generator outputs into canvases: one image, a labelled class grid, a strip, a 2-D scatter.
// Pixels follow gan_core.io.images.to_uint8: rint((x + 1) * 127.5) in float32, clipped to 0..255.

import { f32 } from "./latent.js";

export function toByte(x) {
  const v = f32(f32(x + 1) * 127.5);
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1; // numpy's rint rounds halves to even
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** Write image n of a flat N x C x H x W batch into `image` (an ImageData) at (x0, y0). */
function putTile(image, data, n, shape, x0, y0) {
  const [c, h, w] = shape;
  const plane = h * w, base = n * c * plane;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const o = ((y0 + y) * image.width + (x0 + x)) * 4;
      const r = toByte(data[base + p]);
      image.data[o] = r;
      image.data[o + 1] = c === 3 ? toByte(data[base + plane + p]) : r;
      image.data[o + 2] = c === 3 ? toByte(data[base + 2 * plane + p]) : r;
      image.data[o + 3] = 255;
    }
  }
}

/** One image at its own size (CSS scales it up with crisp pixels). */
export function drawImage(canvas, data, shape, n = 0) {
  const [, h, w] = shape;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  putTile(image, data, n, shape, 0, 0);
  ctx.putImageData(image, 0, 0);
}

/** Tiles in rows x cols with `pad` pixels of black between them, like gan_core.io.images.grid. */
function tileImage(ctx, tiles, shape, cols, pad) {
  const [, h, w] = shape;
  const rowsN = Math.ceil(tiles.length / cols);
  const image = ctx.createImageData(cols * (w + pad) + pad, rowsN * (h + pad) + pad);
  for (let o = 3; o < image.data.length; o += 4) image.data[o] = 255;
  tiles.forEach(([data, n], i) => {
    putTile(image, data, n, shape, pad + (i % cols) * (w + pad), pad + Math.floor(i / cols) * (h + pad));
  });
  return image;
}

/** A tiled picture scaled `scale` times with crisp pixels, with optional row names in a left margin. */
export function drawTiles(canvas, tiles, shape, cols, { pad = 2, scale = 2, names = null, margin = 0 } = {}) {
  const scratch = document.createElement("canvas");
  const sctx = scratch.getContext("2d");
  const image = tileImage(sctx, tiles, shape, cols, pad);
  scratch.width = image.width; scratch.height = image.height;
  sctx.putImageData(image, 0, 0);
  const width = margin + image.width * scale, height = image.height * scale;
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, margin, height);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, margin, 0, image.width * scale, image.height * scale);
  if (names) {
    ctx.fillStyle = "#1e1e1e";
    ctx.font = "14px sans-serif";
    ctx.textBaseline = "middle";
    const pitch = (shape[1] + pad) * scale;
    names.forEach((name, r) => ctx.fillText(String(name).slice(0, 14), 6, pad * scale + r * pitch + pitch / 2));
  }
}

/**
 * The 2-D view: generated cloud, true modes (crosses), a path, the current sample, on [-limit, limit]^2.
 * `colours` (gan_core/io/palette.py) and `limit` (app_pages/explore/points.py PLOT_LIMIT) come from Python.
 */
export function drawPoints(canvas, { cloud = null, modes = null, path = null, current = null, colours, limit }) {
  const size = canvas.width;
  const ctx = canvas.getContext("2d");
  const px = (x) => ((x + limit) / (2 * limit)) * size;
  const py = (y) => size - ((y + limit) / (2 * limit)) * size;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = "#e0e0e0";
  ctx.beginPath();
  for (let v = -limit; v <= limit; v++) {
    ctx.moveTo(px(v), 0); ctx.lineTo(px(v), size); ctx.moveTo(0, py(v)); ctx.lineTo(size, py(v));
  }
  ctx.stroke();
  if (cloud) {
    ctx.fillStyle = colours.fake;
    ctx.globalAlpha = 0.55;
    for (let i = 0; i + 1 < cloud.length; i += 2) ctx.fillRect(px(cloud[i]) - 1.5, py(cloud[i + 1]) - 1.5, 3, 3);
    ctx.globalAlpha = 1;
  }
  if (modes) {
    ctx.strokeStyle = colours.real;
    ctx.lineWidth = 2;
    for (const [x, y] of modes) {
      ctx.beginPath();
      ctx.moveTo(px(x) - 5, py(y)); ctx.lineTo(px(x) + 5, py(y)); ctx.moveTo(px(x), py(y) - 5); ctx.lineTo(px(x), py(y) + 5);
      ctx.stroke();
    }
    ctx.lineWidth = 1;
  }
  if (path) {
    ctx.strokeStyle = colours.path;
    ctx.fillStyle = colours.path;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(px(path[0]), py(path[1]));
    for (let i = 2; i + 1 < path.length; i += 2) ctx.lineTo(px(path[i]), py(path[i + 1]));
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  if (current) {
    ctx.fillStyle = colours.highlight;
    ctx.strokeStyle = "#fff";
    ctx.beginPath();
    ctx.arc(px(current[0]), py(current[1]), 7, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}
