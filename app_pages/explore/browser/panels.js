// The panels under the sample: the class x sample grid and the interpolation (strip and animation).
// Each takes the Explorer; each returns false when a newer input interrupted it (it is then redone).

/** The class x sample grid: column 0 is this sample, columns 1.. the next seeds (cached per seed and ψ). */
async function drawGridPanel(ex) {
  if (ex.el.gridBox.hidden || !ex.el.gridBox.open) return true;
  const z = ex.zEff(), k = ex.model.numClasses, s = ex.state;
  const key = `${s.seed}/${s.trunc}`;
  const raws = [];
  for (let j = 1; j < GRID_COLUMNS; j++) raws.push(ex.seeds.get((s.seed + j) % (ex.limits.seedMax + 1)));
  ex.el.grid.classList.toggle("gx-waiting", !z || raws.some((r) => !r));
  if (!z || raws.some((r) => !r)) return true;
  if (!ex.others || ex.others.key !== key) {
    const zs = [], embs = [];
    for (let c = 0; c < k; c++) for (const raw of raws) { zs.push(scaled(raw, s.trunc)); embs.push(ex.emb(c)); }
    const data = await ex.generate(zs, embs);
    if (!data) return false;
    ex.others = { key, data };
  }
  const first = await ex.generate(Array(k).fill(z), Array.from({ length: k }, (_, c) => ex.emb(c)));
  if (!first) return false;
  const tiles = [];
  for (let c = 0; c < k; c++) {
    tiles.push([first, c]);
    for (let j = 0; j < GRID_COLUMNS - 1; j++) tiles.push([ex.others.data, c * (GRID_COLUMNS - 1) + j]);
  }
  drawTiles(ex.el.grid, tiles, ex.shape, GRID_COLUMNS, { names: ex.model.classNames, margin: 110 });
  return true;
}

/** The interpolation's latents and embeddings for `steps` frames, and a sentence saying what they are. */
function interpolationPath(ex, steps) {
  const s = ex.state, it = s.interp, z = ex.zEff();
  if (!z) return null;
  const edits = Object.keys(s.z).length, moves = Object.keys(s.dirs).length;
  const names = ex.model.classNames || [];
  const here = `seed ${s.seed}${ex.model.numClasses ? `, class ${names[s.cls]}` : ""}, ψ ${s.trunc.toFixed(2)}` +
               (edits ? `, ${edits} z edit${edits > 1 ? "s" : ""}` : "") + (moves ? `, ${moves} direction move${moves > 1 ? "s" : ""}` : "");
  const t = Array.from({ length: steps }, (_, i) => i / (steps - 1));
  if (ex.model.numClasses && !ex.points && it.mode === "classes") {
    const b = ex.classB();
    return { zs: t.map(() => z), embs: t.map((ti) => blendEmbedding(ex.embedding, s.cls, b, ti)),
             label: `Class ${names[s.cls]} → class ${names[b]}, keeping this sample's z (${here}); the class ` +
                    "embedding is blended linearly." };
  }
  const raw = ex.seeds.get(ex.seedB());
  if (!raw) return null;
  const zs = interpolate(z, scaled(raw, s.trunc), steps, it.method);
  return { zs, embs: zs.map(() => ex.emb(s.cls)),
           label: `From this sample (${here}) to seed ${ex.seedB()} at the same ` +
                  `${ex.model.numClasses ? "class and ψ" : "ψ"}, by ${it.method}.` };
}

/** The interpolation strip (a scatter with the path, for a toy model). */
async function drawStripPanel(ex) {
  const steps = ex.state.interp.steps;
  const p = interpolationPath(ex, steps);
  ex.el.strip.classList.toggle("gx-waiting", !p);
  if (!p) { ex.el.interpLabel.textContent = `Waiting for seed ${ex.seedB()}'s z from the server…`; return true; }
  const data = await ex.generate(p.zs, p.embs);
  if (!data) return false;
  ex.el.interpLabel.textContent = p.label;
  if (ex.points) {
    ex.el.strip.width = ex.el.strip.height = 360;
    await ex.ensureCloud();
    drawPoints(ex.el.strip, { cloud: ex.cloud, modes: ex.modes, path: data, colours: ex.colours });
  } else {
    drawTiles(ex.el.strip, Array.from({ length: steps }, (_, i) => [data, i]), ex.shape, steps, { scale: 3 });
  }
  return true;
}

/** The animation's frames along the same path (played by Explorer.loop). */
async function computeAnimation(ex) {
  const p = interpolationPath(ex, ANIM_FRAMES);
  if (!p) return true;
  const data = await ex.generate(p.zs, p.embs);
  if (!data) return false;
  ex.animFrames = data;
  return true;
}
