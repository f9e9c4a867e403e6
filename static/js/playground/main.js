// The playground's entry module: loader.js imports it and calls mount() with the element's arguments on every
// rerun. One Playground per element root, kept across reruns (so training goes on while Python reruns).

import { Playground } from "./element.js";

const instances = new WeakMap();

export function mount(args) {
  let playground = instances.get(args.parentElement);
  if (!playground) {
    playground = new Playground(args.parentElement, args);
    instances.set(args.parentElement, playground);
  }
  playground.update(args);
}
