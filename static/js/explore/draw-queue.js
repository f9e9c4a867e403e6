// What the explorer still has to draw, and the order it draws it in: the sample first, always (a slider
// under the hand), then the slower panels one by one, each of which may be interrupted by a newer sample.

export class DrawQueue {
  /**
   * first: [name, async draw()] drawn before anything else, as often as it is asked for;
   * rest: [name, async draw() -> false when interrupted (it is then asked for again)] in order;
   * ready(): whether drawing can start (the generator is loaded); onError(err): a draw threw.
   */
  constructor(first, rest, ready, onError) {
    [this.firstName, this.drawFirst] = first;
    this.rest = rest;
    this.ready = ready;
    this.onError = onError;
    this.need = new Set();
    this.busy = false;
  }

  /** Ask for these to be drawn (again); starts drawing unless a draw is under way. */
  schedule(...names) {
    for (const name of names) this.need.add(name);
    if (!this.busy) this.pump();
  }

  /** Whether `name` is waiting to be drawn. */
  pending(name) {
    return this.need.has(name);
  }

  async pump() {
    this.busy = true;
    try {
      for (const [name, draw] of [...this.rest, [null, null]]) {
        while (this.ready() && this.need.delete(this.firstName)) await this.drawFirst();
        if (name !== null && this.ready() && this.need.delete(name) && !(await draw())) this.need.add(name);
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.busy = false;
    }
    if (this.ready() && this.need.size) setTimeout(() => this.schedule(), 0);
  }
}
