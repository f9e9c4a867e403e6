// The components-v2 element's own script (app_pages/playground/browser_element.py reads this file). It runs
// from a blob: URL, so it imports the playground's entry module by an absolute URL built from
// window.location.origin and the served path Python sends (data.entry, under /app/static/js/playground/).
// No cleanup function: the element's loop stops its worker by itself once the element leaves the page.

export default function (args) {
  const url = new URL(args.data.entry, `${window.location.origin}/`).href;
  import(url).then((entry) => entry.mount(args)).catch((err) => {
    console.error("gan-playground: could not load", url, err);
    args.setTriggerValue("failed", `could not load the playground's script (${String(err).slice(0, 150)})`);
  });
}
