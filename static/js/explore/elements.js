// The explorer's controls and canvases, found once in its (shadow) root by their class names
// (app_pages/explore/browser/explorer.html).

export function findElements(root) {
  const $ = (sel) => root.querySelector(sel);
  return {
    status: $(".gx-status"), message: $(".gx-message"), seed: $(".gx-seed"), random: $(".gx-random"),
    reset: $(".gx-reset"), cls: $(".gx-class"), classField: $(".gx-class-field"), psi: $(".gx-psi"),
    psiValue: $(".gx-psi-value"), psi0: $(".gx-psi0"), zBox: $(".gx-z"), dirBox: $(".gx-dirs"),
    sample: $(".gx-sample"), caption: $(".gx-caption"), timing: $(".gx-timing"), gridBox: $(".gx-grid-box"),
    grid: $(".gx-grid"), mode: $(".gx-mode"), modeField: $(".gx-mode-field"), seedB: $(".gx-seedb"),
    seedBField: $(".gx-seedb-field"), classB: $(".gx-classb"), classBField: $(".gx-classb-field"),
    method: $(".gx-method"), methodField: $(".gx-method-field"), steps: $(".gx-steps"),
    stepsValue: $(".gx-steps-value"), interpLabel: $(".gx-interp-label"), strip: $(".gx-strip"),
    anim: $(".gx-anim"), play: $(".gx-play"), speed: $(".gx-speed"), speedValue: $(".gx-speed-value"),
    tabs: root.querySelectorAll("[role=tab]"), panels: root.querySelectorAll("[data-panel]"),
  };
}
