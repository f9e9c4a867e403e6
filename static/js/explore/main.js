// The explorer's entry module: the element's loader (loader.js) imports it and calls mount() with the
// element's arguments on every rerun. One Explorer per element root, kept across reruns.

import { Explorer } from "./explorer.js";

const instances = new WeakMap();

export function mount(args) {
  let explorer = instances.get(args.parentElement);
  if (!explorer) {
    explorer = new Explorer(args.parentElement);
    instances.set(args.parentElement, explorer);
  }
  explorer.update(args);
}
