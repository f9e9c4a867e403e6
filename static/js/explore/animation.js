// The interpolation's animation: back and forth along the path at the chosen speed, one frame per
// requestAnimationFrame tick that is due. It stops by itself once the element leaves the page.

import { drawImage, drawPoints } from "./draw.js";

export class Animation {
  /** canvas: where to draw; speed: the fps range input; frameCount: frames along the path. */
  constructor(canvas, speed, frameCount) {
    this.canvas = canvas;
    this.speed = speed;
    this.frameCount = frameCount;
    this.frames = null;
    this.frame = 0;
    this.lastTick = 0;
    this.playing = true;
    this.raf = null;
    this.tick = this.tick.bind(this);
  }

  /** What one frame is drawn with: {shape} for images, or {scene()} (cloud, modes, colours, limit) for points. */
  configure(look) {
    this.look = look;
    this.frames = null;
  }

  setFrames(frames) {
    this.frames = frames;
  }

  /** Start ticking (again) if it is not. */
  start() {
    if (this.raf === null) this.raf = requestAnimationFrame(this.tick);
  }

  tick(now) {
    if (!this.canvas.isConnected) { this.raf = null; return; } // unmounted: stop (start() restarts it)
    this.raf = requestAnimationFrame(this.tick);
    if (!this.frames || !this.playing) return;
    const fps = Number(this.speed.value);
    if (this.lastTick && now - this.lastTick < 1000 / fps) return;
    this.lastTick = now;
    const period = 2 * (this.frameCount - 1);
    this.frame = (this.frame + 1) % period;
    const i = this.frame < this.frameCount ? this.frame : period - this.frame;
    if (this.look.scene) {
      drawPoints(this.canvas, { ...this.look.scene(), current: this.frames.subarray(2 * i, 2 * i + 2) });
    } else {
      drawImage(this.canvas, this.frames, this.look.shape, i);
    }
  }
}
