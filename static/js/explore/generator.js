// The generator as the explorer calls it: rows of (z, class embedding) in, a flat Float32Array of outputs
// out, run in chunks so that a newer slider position can interrupt a long batch (grid, strip, animation).

const CHUNK = 12; // images per run while a newer input may be waiting

export class Generator {
  /**
   * run: the ONNX session's run(flat, n) (runtime.js); model: what Python sent about it; embedding: rows of
   * the class embedding table or null; interrupted(): true when a newer sample is waiting to be drawn.
   */
  constructor(run, model, embedding, interrupted) {
    this.run = run;
    this.zDim = model.zDim;
    this.embedding = embedding;
    this.embedDim = embedding ? model.embedDim : 0;
    this.perOutput = model.output === "points" ? 2 : model.shape.reduce((a, b) => a * b, 1);
    this.interrupted = interrupted;
  }

  /** The class's embedding row (null for an unconditional model). */
  emb(cls) {
    return this.embedding ? this.embedding[cls] : null;
  }

  /** The generator's input: z, then (conditional models) the class embedding, which lets classes blend. */
  input(zs, embs) {
    const width = this.zDim + this.embedDim;
    const flat = new Float32Array(zs.length * width);
    zs.forEach((z, i) => {
      flat.set(z, i * width);
      if (this.embedding) flat.set(embs[i], i * width + this.zDim);
    });
    return flat;
  }

  /** Outputs for rows of (z, embedding), in chunks; null when a newer input arrived in between. */
  async generate(zs, embs, interruptible = true) {
    const out = new Float32Array(zs.length * this.perOutput);
    for (let i = 0; i < zs.length; i += CHUNK) {
      if (interruptible && this.interrupted()) return null;
      const n = Math.min(CHUNK, zs.length - i);
      const part = await this.run(this.input(zs.slice(i, i + n), embs && embs.slice(i, i + n)), n);
      out.set(part, i * this.perOutput);
    }
    return out;
  }
}
