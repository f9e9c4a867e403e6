// The components-v2 element's own script (app_pages/explore/browser_view.py reads this file). It runs
// from a blob: URL, so it imports the explorer's entry module by an absolute URL built from
// window.location.origin and the served path Python sends (data.entry, under /app/static/js/explore/).
// Before that, it draws the server's picture of the current state (data.firstImage, a PNG data URL made by
// app_pages/explore/first_image.py) into the sample canvas: the first image needs none of the explorer's
// modules, and ONNX Runtime Web and the model load only after it is painted (explorer.js). The live
// generator's first frame then draws over it in the same canvas.
// No cleanup function: Streamlit may call a stale one while this element lives on; the animation loop
// stops by itself once the element leaves the page.

/**
 * Draw a PNG data URL into the canvas at the image's own size (CSS scales it as it scales live frames),
 * unless a live frame or another still gets there first. Resolves once drawn or skipped; asking again for
 * the still being drawn returns the same promise.
 */
export function drawStill(canvas, url) {
  if (!canvas || !url) return Promise.resolve(false);
  if (canvas.gxStill && canvas.gxStill.url === url) return canvas.gxStill.done;
  const frame = canvas.dataset.frame;
  const image = new Image();
  image.src = url;
  const still = { url };
  still.done = image.decode().then(() => {
    if (canvas.gxStill !== still || canvas.dataset.frame !== frame) return false; // overtaken
    if (canvas.width !== image.naturalWidth || canvas.height !== image.naturalHeight) {
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
    }
    canvas.getContext("2d").drawImage(image, 0, 0);
    canvas.dataset.still = String(Number(canvas.dataset.still || 0) + 1);
    return true;
  });
  canvas.gxStill = still;
  return still.done;
}

/** Resolves once the browser has painted what is drawn now (two animation frames; a hidden tab: a timer). */
export function afterPaint() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 300);
    requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(timer); resolve(); }));
  });
}

export default function (args) {
  const root = args.parentElement;
  const sample = root.querySelector(".gx-sample");
  if (sample && sample.dataset.frame === "0") { // no live frame yet: show the server's picture at once
    drawStill(sample, args.data.firstImage).then((shown) => {
      const status = root.querySelector(".gx-status");
      if (shown && status && !status.classList.contains("gx-error")) status.textContent = "";
    }).catch((err) => console.warn("gan-explorer: could not show the first image", err));
  }
  const url = new URL(args.data.entry, `${window.location.origin}/`).href;
  import(url).then((entry) => entry.mount(args)).catch((err) => {
    console.error("gan-explorer: could not load", url, err);
    args.setTriggerValue("failed", `could not load the explorer's script (${String(err).slice(0, 150)})`);
  });
}
