// A seed typed in a box, as the server's seed box reads it (app_pages/explore/widgets.py): digits, with
// commas, underscores or spaces between them allowed, up to the largest seed Python sends. The box is a
// text box, not <input type=number>: a number box hands "" to the page for "abc", so the message could not
// show what the student typed.

const SEPARATORS = /[,_\s]/g;
const SHOWN_CHARS = 24;

/** A whole number typed in a box: {value}, or {error} naming what was typed and the allowed range. */
export function parseSeed(text, max) {
  const typed = String(text ?? "").trim();
  const digits = typed.replace(SEPARATORS, "");
  if (/^\d+$/.test(digits) && Number(digits) <= max) return { value: Number(digits) };
  const range = `seeds are whole numbers from 0 to ${max.toLocaleString("en-US")}.`;
  if (!typed) return { error: `The seed box is empty: ${range}` };
  const shown = typed.length > SHOWN_CHARS ? `${typed.slice(0, SHOWN_CHARS - 3)}…` : typed;
  return { error: `${JSON.stringify(shown)} is not a seed: ${range}` };
}
