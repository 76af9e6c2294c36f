/* Reading a block pasted from a spreadsheet by its meaning, not only by its position.
 *
 * A block copied the usual way carries a header row (skill codes or titles) and a column of
 * student names or SIS ids. planPaste finds them and puts each value on its student and skill;
 * a block without them is placed by position from the focused cell, as before. When it cannot be
 * sure where a value belongs (a name it does not know, two students it could be, more rows than
 * students, a column that names no skill, a block that does not fit), the plan says why, and the
 * grid shows where every value would go and writes nothing until the teacher confirms.
 *
 * Pure functions: the grid passes what it knows (students, skills, the focused cell).
 */

const gettext = globalThis.gettext || ((text) => text);
const interpolate =
  globalThis.interpolate ||
  ((format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])));

/** The rows and cells of a tab-separated block (a spreadsheet's clipboard). */
export function readBlock(text) {
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  while (lines.length > 1 && lines[lines.length - 1].trim() === "") lines.pop();
  return lines.map((line) => line.split("\t").map((cell) => cell.trim()));
}

function words(text) {
  return String(text)
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/* "A", "a", "A (max 4)", "A /4", "A · max 4" name skill A; so does its title. */
function skillOf(text, skills) {
  const typed = String(text).trim().toLowerCase();
  if (!typed) return null;
  const bare = typed.replace(/\s*(\(.*\)|\/\s*[\d.,]+|·.*|max\s*[\d.,]+)\s*$/, "").trim();
  return (
    skills.find((skill) => skill.code.toLowerCase() === typed || skill.code.toLowerCase() === bare) ||
    skills.find((skill) => skill.title && [typed, bare].includes(skill.title.toLowerCase())) ||
    null
  );
}

/* The students a row's name cells can be: by SIS id, by every word of their name, or by family
 * name alone when only one student has it. */
function studentsOf(cells, students) {
  const texts = cells.filter(Boolean);
  if (texts.length === 0) return [];
  const bySis = students.filter((student) => student.sis && texts.includes(student.sis));
  if (bySis.length) return bySis;
  const rowWords = new Set(texts.flatMap(words));
  const full = students.filter((student) =>
    [...student.familyWords, ...student.givenWords].every((word) => rowWords.has(word))
  );
  if (full.length) return full;
  return students.filter(
    (student) =>
      student.familyWords.length && student.familyWords.every((word) => rowWords.has(word))
  );
}

/** Prepare the grid's students for matching: {row, id, sis, family, given, name}. */
export function pasteStudents(students) {
  return students.map((student) => ({
    ...student,
    familyWords: words(student.family),
    givenWords: words(student.given),
  }));
}

function looksLikeName(cell) {
  return /\p{L}/u.test(cell) && !/^(a|ab|absent|x|ex|exempt)$/i.test(cell.trim());
}

/**
 * Where each value of a pasted block goes.
 *
 * grid: {students: pasteStudents(...) (grid order), skills: [{col, code, title}], anchor: {row,
 * col}, rows: number of rows, cols: number of columns}.
 * Returns {placements: [{row, col, value}], unplaced: [{line, text, why}], reasons: [...],
 * isCertain, byMeaning}. A blank value of a block read by meaning leaves its cell alone (as a
 * CSV upload does); a blank of a plain block clears its cell, as typing nothing would.
 */
export function planPaste(rows, grid) {
  const width = Math.max(...rows.map((row) => row.length));
  // The header row: a first row naming at least one skill and holding no score.
  const headerSkills = (rows[0] || []).map((cell) => skillOf(cell, grid.skills));
  const hasHeader =
    rows.length > 1 &&
    headerSkills.some(Boolean) &&
    rows[0].every((cell, index) => headerSkills[index] || !/^[\d.,\s]+$/.test(cell) || !cell);
  const data = hasHeader ? rows.slice(1) : rows;
  const lineOffset = hasHeader ? 2 : 1;

  // Name columns: not a skill of the header, and most of their cells name a student (a SIS id
  // or a word of a name), or hold words that are not statuses (a given-name column).
  const nameColumns = [];
  for (let col = 0; col < width; col += 1) {
    if (hasHeader && headerSkills[col]) continue;
    const filled = data.map((row) => row[col] || "").filter(Boolean);
    if (filled.length === 0) continue;
    const named = filled.filter(
      (cell) => studentsOf([cell], grid.students).length > 0 || looksLikeName(cell)
    ).length;
    if (named * 2 > filled.length) nameColumns.push(col);
  }
  const byName = nameColumns.length > 0;
  const byMeaning = hasHeader || byName;

  // Value columns and the grid column each goes to.
  const reasons = [];
  const unplaced = [];
  const columnTargets = [];
  let next = grid.anchor.col;
  for (let col = 0; col < width; col += 1) {
    if (nameColumns.includes(col)) continue;
    if (hasHeader) {
      const skill = headerSkills[col];
      if (skill) {
        columnTargets.push({ col, target: skill.col });
      } else if (data.some((row) => row[col])) {
        const name = rows[0][col] || interpolate(gettext("column %(n)s"), { n: col + 1 }, true);
        reasons.push(
          interpolate(gettext("The column “%(name)s” names no skill of this assessment."), { name }, true)
        );
        columnTargets.push({ col, target: null, why: gettext("no skill of this assessment") });
      }
    } else {
      columnTargets.push({ col, target: next < grid.cols ? next : null, why: gettext("outside the grid") });
      if (next >= grid.cols && data.some((row) => row[col])) {
        reasons.push(gettext("The block is wider than the grid from the cell you pasted into."));
      }
      next += 1;
    }
  }

  // The grid row of each data row.
  const placements = [];
  const taken = new Map();
  if (byName && data.length > grid.students.length) {
    reasons.push(
      interpolate(
        gettext("The block has %(rows)s rows of students; this class has %(students)s."),
        { rows: data.length, students: grid.students.length },
        true
      )
    );
  }
  data.forEach((row, index) => {
    const line = index + lineOffset;
    let gridRow = null;
    if (byName) {
      const candidates = studentsOf(
        nameColumns.map((col) => row[col] || ""),
        grid.students
      );
      const label = nameColumns.map((col) => row[col] || "").filter(Boolean).join(" ");
      if (candidates.length === 1) {
        gridRow = candidates[0].row;
        if (taken.has(gridRow)) {
          reasons.push(interpolate(gettext("%(name)s appears twice."), { name: candidates[0].name }, true));
        }
        taken.set(gridRow, line);
      } else if (candidates.length > 1) {
        reasons.push(interpolate(gettext("“%(name)s” could be more than one student."), { name: label }, true));
        unplaced.push({ line, text: label, why: gettext("more than one student has this name") });
        return;
      } else if (row.some(Boolean)) {
        reasons.push(interpolate(gettext("“%(name)s” is not a student of this class."), { name: label || "?" }, true));
        unplaced.push({ line, text: label || row.join(" "), why: gettext("not a student of this class") });
        return;
      } else {
        return;
      }
    } else {
      gridRow = grid.anchor.row + index;
      if (gridRow >= grid.rows) {
        if (row.some(Boolean)) {
          reasons.push(gettext("The block is longer than the grid from the cell you pasted into."));
          unplaced.push({ line, text: row.join(" "), why: gettext("below the last student") });
        }
        return;
      }
    }
    columnTargets.forEach(({ col, target, why }) => {
      const value = row[col] || "";
      if (byMeaning && value === "") return;
      if (target === null) {
        if (value) unplaced.push({ line, text: value, why });
        return;
      }
      placements.push({ row: gridRow, col: target, value });
    });
  });
  const unique = [...new Set(reasons)];
  return {
    placements,
    unplaced,
    reasons: unique,
    isCertain: unique.length === 0 && unplaced.length === 0,
    byMeaning,
  };
}
