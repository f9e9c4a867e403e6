// A link holds the whole set-up (like Explore's): the query string that app_pages/playground/link.py parses.
// Built in the browser from the current set-up, so sharing sends nothing to the server.

export const QUERY_KEYS = {
  dataset: "data", loss: "loss", lr_g: "lr_g", lr_d: "lr_d", optimizer_g: "opt_g", optimizer_d: "opt_d",
  beta1: "beta1_g", beta1_d: "beta1_d", beta2: "beta2", n_critic: "k", batch_size: "batch", gp_weight: "gp", r1_gamma: "r1",
  label_smoothing: "smooth", z_dim: "z", toy_hidden: "hidden", toy_depth: "depth", seed: "seed",
};

export function setupQuery(setup) {
  const params = new URLSearchParams();
  params.set("engine", "browser");
  for (const [field, key] of Object.entries(QUERY_KEYS)) {
    if (setup[field] !== undefined && setup[field] !== null) params.set(key, String(setup[field]));
  }
  if (setup.dataset === "drawn" && setup.points && setup.points.length) {
    params.set("pts", setup.points.map(([x, y]) => `${x}_${y}`).join("~"));
  }
  return params.toString();
}

export function setupLink(pagePath, setup) {
  return `${window.location.origin}/${pagePath}?${setupQuery(setup)}`;
}
