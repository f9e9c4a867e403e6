// "Draw your own" data: click or drag on the picture to add real points, or rub them out with the eraser.
// The points are in data units (the view's coordinates); every change is handed to `onChange`, which
// sends them to the worker as the real distribution.

const SPACING_PX = 6; // while dragging, a new point at most every this many canvas pixels
const ERASER_PX = 18;
export const MAX_POINTS = 2000;

export class DrawData {
  constructor(canvas, view, onChange) {
    this.canvas = canvas;
    this.view = view;
    this.onChange = onChange;
    this.points = [];
    this.enabled = false;
    this.tool = "pen";
    this.down = false;
    this.last = null;
    canvas.addEventListener("pointerdown", (e) => this.start(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) canvas.addEventListener(type, () => this.end());
  }

  setEnabled(on) {
    this.enabled = on;
    this.canvas.classList.toggle("pg-drawing", on);
  }

  canvasXY(event) {
    const r = this.canvas.getBoundingClientRect();
    return [((event.clientX - r.left) / r.width) * this.canvas.width, ((event.clientY - r.top) / r.height) * this.canvas.height];
  }

  start(event) {
    if (!this.enabled) return;
    this.down = true;
    this.last = null;
    this.apply(this.canvasXY(event));
  }

  move(event) {
    if (this.enabled && this.down) this.apply(this.canvasXY(event));
  }

  end() {
    if (this.down) this.onChange(this.points);
    this.down = false;
  }

  apply([px, py]) {
    if (this.tool === "eraser") {
      const before = this.points.length;
      this.points = this.points.filter(([x, y]) => {
        const [qx, qy] = this.view.toPixel(x, y);
        return Math.hypot(qx - px, qy - py) > ERASER_PX;
      });
      if (this.points.length !== before) this.view.real = this.flat();
      return;
    }
    if (this.last && Math.hypot(this.last[0] - px, this.last[1] - py) < SPACING_PX) return;
    if (this.points.length >= MAX_POINTS) return;
    this.last = [px, py];
    const [x, y] = this.view.toData(px, py);
    this.points.push([Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
    this.view.real = this.flat();
  }

  set(points) {
    this.points = points.slice(0, MAX_POINTS).map(([x, y]) => [x, y]);
    this.view.real = this.flat();
  }

  clear() {
    this.points = [];
    this.view.real = this.flat();
    this.onChange(this.points);
  }

  flat() {
    return Float32Array.from(this.points.flat());
  }
}
