// The panels under the sample: the class x sample grid and the interpolation (strip and animation).
// Each takes the Explorer; each returns false when a newer input interrupted it (it is then redone).

import { drawPoints, drawTiles } from "./draw.js";
import { blendEmbedding, interpolate, scaled } from "./latent.js";

export const ANIM_FRAMES = 24;
const LABEL_MARGIN = 110; // px, as compute.row_labels' margin

/** The class x sample grid: column 0 is this sample, columns 1.. the next seeds (cached per seed and ψ). */
export async function drawGridPanel(ex) {
  if (ex.el.gridBox.hidden || !ex.el.gridBox.open) return true;
  const z = ex.zEff(), k = ex.model.numClasses, s = ex.state, gen = ex.generator;
  const columns = ex.limits.gridColumns;
  const key = `${s.seed}/${s.trunc}`;
  const raws = [];
  for (let j = 1; j < columns; j++) raws.push(ex.seeds.get((s.seed + j) % (ex.limits.seedMax + 1)));
  ex.el.grid.classList.toggle("gx-waiting", !z || raws.some((r) => !r));
  if (!z || raws.some((r) => !r)) return true;
  if (!ex.gridColumns || ex.gridColumns.key !== key) {
    const zs = [], embs = [];
    for (let c = 0; c < k; c++) for (const raw of raws) { zs.push(scaled(raw, s.trunc)); embs.push(gen.emb(c)); }
    const data = await gen.generate(zs, embs);
    if (!data) return false;
    ex.gridColumns = { key, data };
  }
  const first = await gen.generate(Array(k).fill(z), Array.from({ length: k }, (_, c) => gen.emb(c)));
  if (!first) return false;
  const tiles = [];
  for (let c = 0; c < k; c++) {
    tiles.push([first, c]);
    for (let j = 0; j < columns - 1; j++) tiles.push([ex.gridColumns.data, c * (columns - 1) + j]);
  }
  drawTiles(ex.el.grid, tiles, ex.model.shape, columns, { names: ex.model.classNames, margin: LABEL_MARGIN });
  return true;
}

/** The interpolation's latents and embeddings for `steps` frames, and a sentence saying what they are. */
function interpolationPath(ex, steps) {
  const s = ex.state, it = s.interp, z = ex.zEff(), gen = ex.generator;
  if (!z) return null;
  const edits = Object.keys(s.z).length, moves = Object.keys(s.dirs).length;
  const names = ex.model.classNames || [];
  const origin = s.base ? "your drawing's z" : `seed ${s.seed}`; // a projected drawing replaces the seed's z
  const here = `${origin}${ex.model.numClasses ? `, class ${names[s.cls]}` : ""}, ψ ${s.trunc.toFixed(2)}` +
               (edits ? `, ${edits} z edit${edits > 1 ? "s" : ""}` : "") +
               (moves ? `, ${moves} direction move${moves > 1 ? "s" : ""}` : "");
  const t = Array.from({ length: steps }, (_, i) => i / (steps - 1));
  if (ex.conditional() && it.mode === "classes") {
    const b = ex.classB();
    return { zs: t.map(() => z), embs: t.map((ti) => blendEmbedding(gen.embedding, s.cls, b, ti)),
             label: `Class ${names[s.cls]} → class ${names[b]}, keeping this sample's z (${here}); the class ` +
                    "embedding is blended linearly." };
  }
  const raw = ex.seeds.get(ex.seedB());
  if (!raw) return null;
  const zs = interpolate(z, scaled(raw, s.trunc), steps, it.method);
  return { zs, embs: zs.map(() => gen.emb(s.cls)),
           label: `From this sample (${here}) to seed ${ex.seedB()} at the same ` +
                  `${ex.model.numClasses ? "class and ψ" : "ψ"}, by ${it.method}.` };
}

/** The interpolation strip (a scatter with the path, for a toy model). */
export async function drawStripPanel(ex) {
  const steps = ex.state.interp.steps;
  const p = interpolationPath(ex, steps);
  ex.el.strip.classList.toggle("gx-waiting", !p);
  if (!p) { ex.el.interpLabel.textContent = `Waiting for seed ${ex.seedB()}'s z from the server…`; return true; }
  const data = await ex.generator.generate(p.zs, p.embs);
  if (!data) return false;
  ex.el.interpLabel.textContent = p.label;
  if (ex.points) {
    ex.el.strip.width = ex.el.strip.height = 360;
    drawPoints(ex.el.strip, { ...(await ex.pointsScene()), path: data });
  } else {
    drawTiles(ex.el.strip, Array.from({ length: steps }, (_, i) => [data, i]), ex.model.shape, steps, { scale: 3 });
  }
  return true;
}

/** The animation's frames along the same path (played by animation.js). */
export async function computeAnimation(ex) {
  const p = interpolationPath(ex, ANIM_FRAMES);
  if (!p) return true;
  const data = await ex.generator.generate(p.zs, p.embs);
  if (!data) return false;
  ex.animation.setFrames(data);
  return true;
}
