// Modes covered: the one rule of gan_core.eval.metrics.toy_mode_metrics, with the spec's `coverage` parameters.

/** {modes_covered, num_modes, high_quality, mode_counts} of points (x0, y0, ...) against a dataset's modes. */
export function modeCoverage(points, modes, modeStd, rule) {
  const k = modes.length;
  let spacing = 1;
  if (k > 1) {
    spacing = Infinity;
    for (let a = 0; a < k; a += 1) {
      for (let b = 0; b < k; b += 1) {
        if (a !== b) spacing = Math.min(spacing, Math.hypot(modes[a][0] - modes[b][0], modes[a][1] - modes[b][1]));
      }
    }
  }
  const n = points.length / 2;
  const counts = new Array(k).fill(0);
  let highQuality = 0;
  for (let i = 0; i < n; i += 1) {
    let best = Infinity;
    let bestMode = 0;
    for (let m = 0; m < k; m += 1) {
      const d = Math.hypot(points[2 * i] - modes[m][0], points[2 * i + 1] - modes[m][1]);
      if (d < best) {
        best = d;
        bestMode = m;
      }
    }
    if (best <= spacing * rule.radius) counts[bestMode] += 1;
    if (best <= rule.high_quality_stds * modeStd) highQuality += 1;
  }
  const needed = Math.max(1, rule.share * n / k);
  return {
    modes_covered: counts.filter((c) => c >= needed).length,
    num_modes: k,
    high_quality: n ? highQuality / n : 0,
    mode_counts: counts,
  };
}
