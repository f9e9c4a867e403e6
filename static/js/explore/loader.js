// The components-v2 element's own script (app_pages/explore/browser_view.py reads this file). It runs
// from a blob: URL, so it imports the explorer's entry module by an absolute URL built from
// window.location.origin and the served path Python sends (data.entry, under /app/static/js/explore/).
// No cleanup function: Streamlit may call a stale one while this element lives on; the animation loop
// stops by itself once the element leaves the page.

export default function (args) {
  const url = new URL(args.data.entry, `${window.location.origin}/`).href;
  import(url).then((entry) => entry.mount(args)).catch((err) => {
    console.error("gan-explorer: could not load", url, err);
    args.setTriggerValue("failed", `could not load the explorer's script (${String(err).slice(0, 150)})`);
  });
}
