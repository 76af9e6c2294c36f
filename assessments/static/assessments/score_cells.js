/* What a typed or pasted score cell means: the same rule as assessments/cells.py (parse_cell).
 *
 * Both run the table of cases in tests/cases/score_cells.json. A cell is empty, a status word
 * (A/ab/absent, X/ex/exempt), or points: ASCII, fullwidth or Arabic-Indic digits, a point or a
 * comma as decimal separator, at most 2 decimals, from 0 to the skill's max. Messages go through
 * Django's JavaScript catalog when the page loads it.
 */

const gettext = globalThis.gettext || ((text) => text);
const interpolate =
  globalThis.interpolate ||
  ((format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])));

const STATUS_WORDS = { a: "A", ab: "A", absent: "A", x: "X", ex: "X", exempt: "X" };
const NUMBER = /^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)$/;
const THOUSANDS = /^[+-]?[1-9][0-9]{0,2},[0-9]{3}$/;

/* Fullwidth (by NFKC) and Arabic-script digits and separators as ASCII. */
function plain(typed) {
  return typed
    .normalize("NFKC")
    .replace(/[\u0660-\u0669]/g, (digit) => String(digit.charCodeAt(0) - 0x0660))
    .replace(/[\u06f0-\u06f9]/g, (digit) => String(digit.charCodeAt(0) - 0x06f0))
    .replace(/\u066b/g, ".");
}

/* Points as people write them: "3.50" → "3.5", "-0" → "0", ".5" → "0.5". */
function shownPoints(number) {
  const unsigned = number.replace(/^[+-]/, "");
  const [whole, fraction = ""] = unsigned.split(".");
  const integer = whole.replace(/^0+(?=\d)/, "") || "0";
  const decimals = fraction.replace(/0+$/, "");
  return decimals ? `${integer}.${decimals}` : integer;
}

/* The max as the server writes it (its data-max attribute is already "4" or "2.5"). */
function shownMax(max) {
  return shownPoints(String(max));
}

/** Check one cell. Returns {ok: true, value} with the value as the server shows it ("3.5", "A",
 * "X", ""), or {ok: false, reason} with the server's words. */
export function checkCell(text, max) {
  const typed = String(text).trim();
  if (typed === "") return { ok: true, value: "" };
  const simple = plain(typed).trim();
  const status = STATUS_WORDS[simple.toLowerCase()];
  if (status) return { ok: true, value: status };
  if (THOUSANDS.test(simple)) {
    return {
      ok: false,
      reason: interpolate(
        gettext(
          "'%(typed)s' could be %(small)s or %(large)s: " +
            "type the points without a thousands separator."
        ),
        {
          typed,
          small: shownPoints(simple.replace(",", ".")),
          large: simple.replace(",", "").replace(/^\+/, ""),
        },
        true
      ),
    };
  }
  if (!NUMBER.test(simple)) {
    return {
      ok: false,
      reason: interpolate(
        gettext(
          "'%(typed)s' is not a score: type points from 0 to %(max)s, " +
            "A for absent or X for exempt."
        ),
        { typed, max: shownMax(max) },
        true
      ),
    };
  }
  const number = simple.replace(",", ".");
  const decimals = (number.split(".")[1] || "").replace(/0+$/, "");
  if (decimals.length > 2) {
    return {
      ok: false,
      reason: interpolate(gettext("'%(typed)s' has more than 2 decimals."), { typed }, true),
    };
  }
  const value = shownPoints(number);
  const negative = number.startsWith("-") && value !== "0";
  if (negative || Number(value) > Number(max)) {
    return {
      ok: false,
      reason: interpolate(
        gettext("%(typed)s is outside 0 to %(max)s points."),
        { typed, max: shownMax(max) },
        true
      ),
    };
  }
  return { ok: true, value };
}
