// The live status line under the controls: `step 1234 · modes covered 8/8`, then the run state. The count is the
// worker's, computed with the one rule every page uses (gan_core.eval.metrics; its wording is the tooltip).

export function statusText(frame, setup, drawnCount) {
  const parts = [`step ${frame.step}`];
  if (frame.coverage) parts.push(`modes covered ${frame.coverage.modes_covered}/${frame.coverage.num_modes}`);
  else if (setup.dataset === "drawn") parts.push(`your ${drawnCount} points`);
  if (frame.running) {
    const rate = Number.isFinite(frame.stepsPerSecond) ? Math.round(frame.stepsPerSecond) : 0;
    parts.push(`running, ${rate} steps/s`);
  } else {
    parts.push("paused");
  }
  parts.push(`lr G ${formatNumber(setup.lr_g)} · lr D ${formatNumber(setup.lr_d)}`);
  return parts.join(" · ");
}

export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-2 || Math.abs(value) >= 1e4)) return value.toExponential(0).replace("e-", "e-");
  return String(Number(value.toPrecision(3)));
}
