// The seed box's parser (static/js/explore/seed.js): what the student typed is named in the message.
import assert from "node:assert/strict";
import { test } from "node:test";

import { parseSeed } from "../../static/js/explore/seed.js";

const MAX = 2 ** 31 - 1;

test("whole numbers in range are seeds, separators allowed as on the server", () => {
  assert.deepEqual(parseSeed("42", MAX), { value: 42 });
  assert.deepEqual(parseSeed(" 1,000 ", MAX), { value: 1000 });
  assert.deepEqual(parseSeed("2_147_483_647", MAX), { value: MAX });
});

test("anything else names what was typed and the range", () => {
  for (const typed of ["abc", "-3", "1.5", "2147483648"]) {
    const { error, value } = parseSeed(typed, MAX);
    assert.equal(value, undefined, typed);
    assert.ok(error.startsWith(`"${typed}" is not a seed`), error);
    assert.ok(error.includes("0 to 2,147,483,647"), error);
  }
  assert.ok(parseSeed("", MAX).error.startsWith("The seed box is empty"));
  assert.ok(parseSeed("x".repeat(100), MAX).error.length < 120, "a long entry is shortened");
});
