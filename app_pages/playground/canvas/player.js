// The 2-D playground's animation. The worker records ~20 frames a second of training; the page's
// one-second live fragment sends the frames recorded since its last run in one batch (data.frames);
// this element queues them and plays them back evenly until the next batch arrives, so the canvas
// changes every ~50 ms while the server reruns nothing more than before. Frames only go forward: a
// frame at or before the last one queued is ignored, and when the queue grows too long (a slow tab)
// the oldest waiting frames are skipped. Every colour comes from Python (gan_core/io/palette.py and
// its D(x) colour map), so the canvas and the static plot agree.

const MAX_QUEUE = 96; // frames waiting to be shown; beyond this the oldest are skipped
const BATCH_MS = [250, 3000]; // the measured time between two batches is kept in this range
const ARROW_SHARE = 0.1; // the longest arrow is drawn this share of the view's width (as the static plot)
const INT16_MAX = 32767;

function bytesOf(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function int16Of(b64) {
  const b = bytesOf(b64);
  return new Int16Array(b.buffer, 0, b.length >> 1); // little-endian, as Python wrote it ("<i2")
}

function decodeFrame(f) {
  return { seq: f.seq, step: f.step, time: f.time, fake: int16Of(f.fake), arrows: int16Of(f.arrows), arrowLength: f.arrowLength,
           surface: bytesOf(f.surface), manifold: int16Of(f.manifold) };
}

class Player {
  constructor(root) {
    this.root = root;
    this.canvas = root.querySelector(".pg-field");
    this.caption = root.querySelector(".pg-caption");
    this.ctx = this.canvas.getContext("2d");
    this.heat = document.createElement("canvas"); // D's surface at its own resolution, scaled up smoothly
    this.queue = []; this.shown = null; this.lastSeq = -1; this.run = null;
    this.arrivedAt = null; this.batchMs = 1000; this.perFrame = 50; this.nextAt = 0;
    this.draws = 0; this.drawTimes = [];
    this.tick = this.tick.bind(this); this.raf = null;
  }

  update(d) {
    if (d.run !== this.run) { // a new run: start over
      this.run = d.run; this.queue = []; this.lastSeq = -1; this.shown = null; this.arrivedAt = null;
    }
    this.settings(d);
    const fresh = d.frames.filter((f) => f.seq > this.lastSeq).map(decodeFrame);
    const now = performance.now();
    if (fresh.length) {
      if (this.arrivedAt !== null) {
        const gap = Math.min(BATCH_MS[1], Math.max(BATCH_MS[0], now - this.arrivedAt));
        this.batchMs = 0.7 * this.batchMs + 0.3 * gap;
      }
      this.arrivedAt = now;
      this.lastSeq = fresh[fresh.length - 1].seq;
      this.queue.push(...fresh);
      if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
      this.perFrame = this.batchMs / this.queue.length; // the queue lasts until the next batch is due
    }
    if (!this.shown && this.queue.length) this.showNext(now);
    else if (this.shown) this.draw(); // the settings (what to show) may have changed
    if (this.raf === null) this.raf = requestAnimationFrame(this.tick);
  }

  settings(d) {
    this.extent = d.extent; this.unit = d.unit; this.grid = d.grid; this.manifoldN = d.manifoldN;
    this.show = d.show; this.palette = d.palette; this.state = d.state;
    this.canvas.style.maxWidth = d.big ? "none" : ""; // presenter mode: as wide as the column
    if (d.real !== this.realB64) { this.realB64 = d.real; this.real = int16Of(d.real); }
    if (d.lut !== this.lutB64) {
      this.lutB64 = d.lut; this.lut = bytesOf(d.lut);
      const stops = [0, 64, 128, 192, 255].map((i) => `rgb(${this.lut[3 * i]},${this.lut[3 * i + 1]},${this.lut[3 * i + 2]})`);
      this.root.querySelector(".pg-scale").style.background = `linear-gradient(to right, ${stops.join(",")})`;
      this.root.querySelector(".pg-real").style.background = d.palette.real;
      const fake = this.root.querySelector(".pg-fake");
      fake.style.background = d.palette.fake; fake.style.border = `1px solid ${d.palette.fakeOutline}`;
    }
    this.root.querySelector(".pg-scale-lo").textContent = d.probability ? "fake 0" : "low";
    this.root.querySelector(".pg-scale-hi").textContent = d.probability ? "1 real" : "high";
  }

  tick(now) {
    if (!this.root.isConnected) { this.raf = null; return; } // the element left the page
    this.raf = requestAnimationFrame(this.tick);
    if (this.queue.length && now >= this.nextAt) this.showNext(now);
  }

  showNext(now) {
    this.shown = this.queue.shift();
    // on time (within half a frame): keep the pace; after waiting for a batch: pace from now
    this.nextAt = now - this.nextAt > 0.5 * this.perFrame ? now + this.perFrame : this.nextAt + this.perFrame;
    this.draw();
    this.drawTimes.push(now);
    while (this.drawTimes.length && this.drawTimes[0] < now - 1000) this.drawTimes.shift();
  }

  // ------------------------------------------------------------ drawing
  px(x) { return ((x * this.unit + this.extent) / (2 * this.extent)) * this.canvas.width; }
  py(y) { return this.canvas.height - ((y * this.unit + this.extent) / (2 * this.extent)) * this.canvas.height; }

  draw() {
    const f = this.shown, ctx = this.ctx, W = this.canvas.width, H = this.canvas.height, P = this.palette;
    ctx.save();
    ctx.globalAlpha = 1; ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    if (this.show.surface) this.drawSurface(f);
    if (this.show.manifold) this.drawManifold(f);
    if (this.show.real) this.drawPoints(this.real, this.real.length / 2, 2.2, P.real, 0.5, null);
    this.drawPoints(f.fake, f.fake.length / 2, 3.2, P.fake, 0.9, P.fakeOutline);
    if (this.show.arrows) this.drawArrows(f);
    ctx.globalAlpha = 1; ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(6, 6, 150, 24);
    ctx.fillStyle = "#222"; ctx.font = "15px sans-serif"; ctx.textBaseline = "middle";
    ctx.fillText(`step ${f.step.toLocaleString("en-US")}`, 12, 18);
    ctx.restore();
    this.draws += 1;
    this.canvas.dataset.frame = String(f.seq);
    this.canvas.dataset.step = String(f.step);
    this.canvas.dataset.time = String(f.time); // when the worker recorded it (seconds into the run)
    this.canvas.dataset.draws = String(this.draws);
    const fps = this.drawTimes.length;
    this.caption.textContent = `${this.state} · step ${f.step.toLocaleString("en-US")} · ` +
      (fps > 1 ? `playing ${fps} frames/s, ` : "") + `${this.queue.length} frames queued`;
  }

  drawSurface(f) {
    const R = this.grid, heat = this.heat;
    if (heat.width !== R) { heat.width = R; heat.height = R; }
    const hctx = heat.getContext("2d"), img = hctx.createImageData(R, R), lut = this.lut;
    for (let i = 0; i < R; i++) { // row i of the surface is y from the bottom: image row R - 1 - i
      for (let j = 0; j < R; j++) {
        const v = f.surface[i * R + j], o = 4 * ((R - 1 - i) * R + j);
        img.data[o] = lut[3 * v]; img.data[o + 1] = lut[3 * v + 1]; img.data[o + 2] = lut[3 * v + 2]; img.data[o + 3] = 255;
      }
    }
    hctx.putImageData(img, 0, 0);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(heat, 0, 0, R, R, 0, 0, this.canvas.width, this.canvas.height);
  }

  drawManifold(f) {
    const ctx = this.ctx, n = this.manifoldN, m = f.manifold;
    ctx.strokeStyle = this.palette.manifold; ctx.globalAlpha = 0.6; ctx.lineWidth = 1;
    for (let i = 0; i < n; i++) {
      for (const along of [(k) => 2 * (i * n + k), (k) => 2 * (k * n + i)]) { // row i, then column i
        ctx.beginPath();
        for (let k = 0; k < n; k++) {
          const o = along(k);
          if (k) ctx.lineTo(this.px(m[o]), this.py(m[o + 1])); else ctx.moveTo(this.px(m[o]), this.py(m[o + 1]));
        }
        ctx.stroke();
      }
    }
  }

  drawPoints(xy, count, r, fill, alpha, outline) {
    const ctx = this.ctx;
    ctx.globalAlpha = alpha; ctx.fillStyle = fill;
    if (outline) { ctx.strokeStyle = outline; ctx.lineWidth = 0.9; }
    for (let k = 0; k < count; k++) {
      ctx.beginPath();
      ctx.arc(this.px(xy[2 * k]), this.py(xy[2 * k + 1]), r, 0, 2 * Math.PI);
      ctx.fill();
      if (outline) ctx.stroke();
    }
  }

  drawArrows(f) {
    if (!f.arrowLength) return;
    const ctx = this.ctx, a = f.arrows, len = (ARROW_SHARE * this.canvas.width) / INT16_MAX;
    ctx.globalAlpha = 0.9; ctx.strokeStyle = this.palette.arrow; ctx.fillStyle = this.palette.arrow; ctx.lineWidth = 1.3;
    for (let k = 0; k < a.length / 2; k++) {
      const x0 = this.px(f.fake[2 * k]), y0 = this.py(f.fake[2 * k + 1]);
      const dx = a[2 * k] * len, dy = -a[2 * k + 1] * len, d = Math.hypot(dx, dy);
      if (d < 0.5) continue;
      const x1 = x0 + dx, y1 = y0 + dy, ux = dx / d, uy = dy / d, h = Math.min(6, 0.4 * d);
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - h * ux + 0.5 * h * uy, y1 - h * uy - 0.5 * h * ux);
      ctx.lineTo(x1 - h * ux - 0.5 * h * uy, y1 - h * uy + 0.5 * h * ux);
      ctx.closePath(); ctx.fill();
    }
  }
}

const players = new WeakMap();  // one Player per element, kept across reruns

function playerFor(element) {
  if (!players.has(element)) players.set(element, new Player(element));
  return players.get(element);
}

export default function (component) {
  const player = playerFor(component.parentElement);
  if (component.data) player.update(component.data);
  // No cleanup function: the animation loop stops by itself once the element leaves the page.
}
