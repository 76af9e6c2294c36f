/* Score grid: spreadsheet keys, paste by meaning, undo, checks as typed, autosave that loses
 * nothing, co-teachers' changes shown as they happen, and a one-student-at-a-time phone mode.
 *
 * Saves through the bulk score API (one request per batch, every changed valid cell with the
 * version it was based on). Nothing typed is dropped: each unsaved cell is kept in IndexedDB
 * (score_store.js) until the server acknowledges it and replayed when the grid opens again; a
 * batch goes out at most MAX_WAIT_MS after the first unsaved change, even while typing goes on; a
 * value the server refuses stays in its cell with the reason; a failed request is retried with
 * backoff; a conflict (a co-teacher saved the cell meanwhile) waits for the teacher's choice;
 * leaving with unsaved values warns, and signing out saves first.
 *
 * Longer than the house's 600 lines because every part works on the same cells and their state
 * (typing, paste, undo, saving, replay, polling); the rules that stand alone are modules:
 * score_cells.js (what a cell means), score_paste.js (where pasted values go), score_store.js.
 */
import { checkCell } from "./score_cells.js";
import { pasteStudents, planPaste, readBlock } from "./score_paste.js";
import { PendingStore } from "./score_store.js";

const t = globalThis.gettext || ((text) => text);
const ngettext =
  globalThis.ngettext || ((singular, plural, count) => (count === 1 ? singular : plural));
const fmt =
  globalThis.interpolate ||
  ((format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])));
const f = (format, values) => fmt(format, values, true);

(function () {
  const table = document.getElementById("score-grid");
  if (!table) return;

  const DEBOUNCE_MS = 600; // a pause in typing sends what was typed
  const MAX_WAIT_MS = 1500; // ... and steady typing still sends this soon after its first change
  const POLL_MS = 5000; // co-teachers' saves appear within about this long
  const FIRST_RETRY_MS = 1000;
  const MAX_RETRY_MS = 30000;
  const UNSAVED_STATES = ["dirty", "saving", "retry", "invalid", "rejected", "conflict"];
  const MARKS = {
    clean: "",
    saved: "✓",
    dirty: "•",
    saving: "…",
    retry: "↻",
    invalid: "!",
    rejected: "!",
    conflict: "⚠",
  };

  const editable = table.dataset.editable === "true";
  const saveUrl = table.dataset.saveUrl;
  const historyUrl = table.dataset.historyUrl;
  const csrfToken = table.dataset.csrf;
  const statusBox = document.getElementById("grid-status");
  const noteBox = document.getElementById("grid-note");
  const retryButton = document.getElementById("grid-retry");
  const undoButton = document.getElementById("grid-undo");
  const reasonInput = document.getElementById("grid-reason");
  const historyButton = document.getElementById("grid-history-button");
  const historyDialog = document.getElementById("history-dialog");
  const historyBody = document.getElementById("history-body");
  const pasteDialog = document.getElementById("paste-dialog");
  const phoneNav = document.getElementById("phone-nav");
  const phoneMode = window.matchMedia("(max-width: 480px)");
  const store = editable ? new PendingStore(table.dataset.user, saveUrl) : null;

  const grid = []; // grid[row][col] = cell
  const cells = []; // every cell, in reading order
  const cellsByKey = {}; // "student|skill" -> cell
  const cellsByInput = new Map();
  const rowHeads = Array.from(table.querySelectorAll("tbody th[scope=row]"));
  const skills = Array.from(table.querySelectorAll("thead th.skill-col")).map((th, col) => ({
    col,
    code: th.dataset.skill,
    title: th.dataset.title || "",
  }));

  let timer = null; // the debounce or retry timer
  let firstUnsavedAt = null; // when the oldest change not yet sent was made
  let requestInFlight = false;
  let flushAgain = false;
  let retryDelay = FIRST_RETRY_MS;
  let retryWaiting = false;
  let pageError = "";
  let selectedCell = null;
  let rangeEnd = null; // Shift+arrows select down a column from selectedCell to here
  let editing = false; // F2 or a second click: arrows move the caret, not the selection
  let cursor = Number(table.dataset.cursor || 0);
  const undoStack = []; // [{label, changes: [{cell, before, after}]}]

  // ---------------------------------------------------------------- cells and their state

  const check = checkCell;

  table.querySelectorAll("input.cell-input").forEach((input) => {
    const version = input.dataset.version;
    const cell = {
      input,
      td: input.closest("td"),
      message: document.getElementById(input.getAttribute("aria-describedby")),
      mark: input.parentNode.querySelector(".cell-mark"),
      row: Number(input.dataset.row),
      col: Number(input.dataset.col),
      student: Number(input.dataset.student),
      skill: input.dataset.skill,
      max: input.dataset.max,
      version: version === "" ? null : Number(version),
      saved: check(input.value, input.dataset.max).value || input.value.trim(),
      sending: null, // the value of this cell in the request in flight
      reason: "", // sent with the cell's next save (the teacher's reason, or "Undo")
      justSaved: false,
      failed: false, // the last request failed (network or server error): send again
      rejected: null, // {value, message}: the server refused this value
      conflict: null, // {current, version, by}: saved meanwhile by someone else
      theirs: "", // who else saved the value shown (a co-teacher, seen by polling)
      valueOnFocus: input.value,
    };
    (grid[cell.row] = grid[cell.row] || [])[cell.col] = cell;
    cells.push(cell);
    cellsByKey[cell.student + "|" + cell.skill] = cell;
    cellsByInput.set(input, cell);
  });

  function stateOf(cell) {
    if (cell.conflict) return "conflict";
    const result = check(cell.input.value, cell.max);
    if (!result.ok) return "invalid";
    if (cell.rejected && cell.rejected.value === result.value) return "rejected";
    if (cell.sending !== null) return result.value === cell.sending ? "saving" : "dirty";
    if (result.value === cell.saved) return cell.justSaved ? "saved" : "clean";
    return cell.failed ? "retry" : "dirty";
  }

  function messageOf(cell, state) {
    switch (state) {
      case "saved":
        return t("Saved");
      case "dirty":
        return t("Not saved yet");
      case "saving":
        return t("Saving…");
      case "retry":
        return t("Not saved yet: the server could not be reached; trying again.");
      case "invalid":
        return check(cell.input.value, cell.max).reason;
      case "rejected":
        return cell.rejected.message;
      case "clean":
        return cell.theirs ? f(t("Changed by %(who)s"), { who: cell.theirs }) : "";
      default:
        return "";
    }
  }

  function paint(cell) {
    const state = stateOf(cell);
    cell.td.dataset.state = state;
    cell.mark.textContent = MARKS[state];
    const isWrong = state === "invalid" || state === "rejected";
    cell.input.setAttribute("aria-invalid", isWrong ? "true" : "false");
    if (state !== "clean") cell.theirs = "";
    cell.td.classList.toggle("is-theirs", Boolean(cell.theirs));
    if (state === "conflict") {
      paintConflict(cell);
    } else {
      cell.message.textContent = messageOf(cell, state);
    }
    const isShown = isWrong || state === "conflict" || state === "retry" || Boolean(cell.theirs);
    cell.message.classList.toggle("is-shown", isShown);
  }

  function paintConflict(cell) {
    const conflict = cell.conflict;
    const mine = check(cell.input.value, cell.max);
    const mineShown = mine.ok ? mine.value || t("empty") : cell.input.value.trim();
    const theirs = conflict.current || t("empty");
    const who = conflict.by || t("someone else");
    cell.message.textContent = "";
    const text = document.createElement("span");
    text.className = "conflict-text";
    text.textContent = f(t("Changed by %(who)s to %(value)s."), { who, value: theirs });
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "conflict-keep";
    keep.textContent = f(t("Keep mine (%(value)s)"), { value: mineShown });
    keep.disabled = !mine.ok;
    keep.addEventListener("click", () => keepMine(cell));
    const take = document.createElement("button");
    take.type = "button";
    take.className = "conflict-take secondary";
    take.textContent = f(t("Take theirs (%(value)s)"), { value: theirs });
    take.addEventListener("click", () => takeTheirs(cell));
    cell.message.append(text, " ", keep, " ", take);
  }

  function setVersion(cell, version) {
    cell.version = version;
    cell.input.dataset.version = version === null ? "" : String(version);
  }

  function keepMine(cell) {
    setVersion(cell, cell.conflict.version);
    cell.saved = cell.conflict.current;
    cell.conflict = null;
    cell.failed = false;
    remember(cell);
    paint(cell);
    focusCell(cell);
    flushSoon(0);
    renderStatus();
  }

  function takeTheirs(cell) {
    cell.input.value = cell.conflict.current;
    cell.saved = cell.conflict.current;
    setVersion(cell, cell.conflict.version);
    cell.conflict = null;
    cell.rejected = null;
    cell.failed = false;
    cell.justSaved = true;
    forget(cell);
    paint(cell);
    focusCell(cell);
    renderStatus();
  }

  function renderStatus() {
    const counts = {};
    UNSAVED_STATES.forEach((state) => {
      counts[state] = 0;
    });
    let unsaved = 0;
    cells.forEach((cell) => {
      const state = stateOf(cell);
      if (state in counts) {
        counts[state] += 1;
        unsaved += 1;
      }
    });
    const parts = [];
    if (unsaved === 0 && !pageError) {
      parts.push(t("All saved"));
    } else {
      parts.push(f(t("%(count)s unsaved"), { count: unsaved }));
      if (counts.saving) parts.push(t("saving…"));
      if (counts.dirty && !counts.saving) parts.push(t("saving soon"));
      if (counts.conflict) {
        parts.push(
          f(t("%(count)s changed by someone else: choose which value to keep"), {
            count: counts.conflict,
          })
        );
      }
      const toFix = counts.invalid + counts.rejected;
      if (toFix) parts.push(f(t("%(count)s to fix (see the red cells)"), { count: toFix }));
      if (counts.retry) parts.push(t("the server could not be reached; retrying"));
      if (pageError) parts.push(pageError);
    }
    statusBox.textContent = parts.join(" · ");
    statusBox.dataset.unsaved = String(unsaved);
    statusBox.classList.toggle("is-clean", unsaved === 0 && !pageError);
    statusBox.classList.toggle(
      "is-problem",
      Boolean(counts.invalid || counts.rejected || counts.conflict || counts.retry || pageError)
    );
    retryButton.hidden = !(counts.retry || pageError);
  }

  function unsavedCells() {
    return cells.filter((cell) => UNSAVED_STATES.indexOf(stateOf(cell)) !== -1);
  }

  // ---------------------------------------------------------------- the durable local copy

  /* Keep the cell's typed value (with the version it was based on) until the server has it. */
  function remember(cell) {
    if (!store) return;
    const typed = check(cell.input.value, cell.max);
    const value = typed.ok ? typed.value : cell.input.value;
    if (value === cell.saved && !cell.conflict) {
      store.remove(cell.student, cell.skill);
    } else {
      store.put(cell.student, cell.skill, value, cell.version, cell.reason);
    }
  }

  function forget(cell) {
    if (store) store.remove(cell.student, cell.skill);
  }

  /* Values typed before a crash, a closed tab or a restart come back, and are saved. The version
   * each was based on goes with it, so a cell changed meanwhile is a conflict, as always. */
  async function replay() {
    if (!store) return 0;
    const records = await store.mine();
    let restored = 0;
    records.forEach((record) => {
      const cell = cellsByKey[record.student + "|" + record.skill];
      if (!cell) return;
      if (record.value === cell.saved) {
        forget(cell);
        return;
      }
      cell.input.value = record.value;
      cell.valueOnFocus = record.value;
      setVersion(cell, record.version);
      cell.reason = record.reason || "";
      restored += 1;
      paint(cell);
    });
    if (restored) {
      note(
        f(
          ngettext(
            "%(count)s value typed earlier and not saved was restored; saving it now.",
            "%(count)s values typed earlier and not saved were restored; saving them now.",
            restored
          ),
          { count: restored }
        )
      );
      markUnsaved();
      flushSoon(0);
    }
    renderStatus();
    return restored;
  }

  // ---------------------------------------------------------------- saving

  function markUnsaved() {
    if (firstUnsavedAt === null) firstUnsavedAt = Date.now();
  }

  /* Send after a pause in typing, but never later than MAX_WAIT_MS after the first change. */
  function flushSoon(delay) {
    if (!editable) return;
    let wait = delay === undefined ? DEBOUNCE_MS : delay;
    if (firstUnsavedAt !== null) {
      wait = Math.min(wait, Math.max(0, firstUnsavedAt + MAX_WAIT_MS - Date.now()));
    }
    if (retryWaiting && delay === undefined) return; // the retry timer will send it
    clearTimeout(timer);
    timer = setTimeout(flush, wait);
  }

  function flush() {
    clearTimeout(timer);
    timer = null;
    retryWaiting = false;
    if (requestInFlight) {
      flushAgain = true;
      return;
    }
    const batch = cells.filter((cell) => {
      const state = stateOf(cell);
      return state === "dirty" || state === "retry";
    });
    firstUnsavedAt = null;
    if (batch.length === 0) {
      renderStatus();
      return;
    }
    const scores = batch.map((cell) => {
      cell.sending = check(cell.input.value, cell.max).value;
      cell.failed = false;
      cell.justSaved = false;
      paint(cell);
      const row = { student: cell.student, skill: cell.skill, value: cell.sending, version: cell.version };
      if (cell.reason) row.reason = cell.reason;
      return row;
    });
    requestInFlight = true;
    renderStatus();
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify({ scores }),
    })
      .then((response) =>
        response
          .json()
          .catch(() => null)
          .then((body) => ({ status: response.status, body }))
      )
      .catch(() => ({ status: 0, body: null }))
      .then((reply) => {
        requestInFlight = false;
        const sent = batch.map((cell) => {
          const value = cell.sending;
          cell.sending = null;
          return value;
        });
        handleReply(batch, sent, reply);
        batch.forEach(paint);
        renderStatus();
        document.dispatchEvent(new CustomEvent("grid:replied"));
        if (flushAgain || cells.some((cell) => stateOf(cell) === "dirty")) {
          flushAgain = false;
          markUnsaved();
          flushSoon();
        }
      });
  }

  function acknowledged(cell, value, version) {
    cell.saved = value;
    setVersion(cell, version);
    cell.rejected = null;
    cell.justSaved = true;
    cell.theirs = "";
    const typed = check(cell.input.value, cell.max);
    if (typed.ok && typed.value === value) {
      cell.reason = "";
      forget(cell);
      if (document.activeElement !== cell.input) cell.input.value = value; // "a" → "A"
    }
  }

  function handleReply(batch, sent, reply) {
    const body = reply.body;
    if (reply.status === 200 && body && Array.isArray(body.saved)) {
      pageError = "";
      retryDelay = FIRST_RETRY_MS;
      body.saved.forEach((item) => {
        const cell = cellsByKey[item.student + "|" + item.skill];
        if (cell) acknowledged(cell, item.value, item.version);
      });
      return;
    }
    if (
      (reply.status === 400 || reply.status === 409) &&
      body &&
      Array.isArray(body.problems) &&
      body.problems.length > 0
    ) {
      pageError = "";
      retryDelay = FIRST_RETRY_MS;
      let leftOver = false;
      body.problems.forEach((problem) => {
        const cell = cellsByKey[problem.student + "|" + problem.skill];
        const position = batch.indexOf(cell);
        if (!cell || position === -1) {
          pageError = problem.message;
          leftOver = true;
          return;
        }
        if (problem.is_conflict && problem.current === sent[position]) {
          // Saved already (e.g. a reply lost on the way back): same value, so no conflict.
          acknowledged(cell, problem.current, problem.current_version);
        } else if (problem.is_conflict) {
          cell.conflict = {
            current: problem.current,
            version: problem.current_version,
            by: problem.current_by,
          };
        } else {
          cell.rejected = { value: sent[position], message: problem.message };
        }
      });
      if (leftOver) {
        // A problem that names no cell (the assessment left the unit): stop, keep every value.
        batch.forEach((cell, position) => {
          if (!cell.conflict && !cell.rejected) {
            cell.rejected = { value: sent[position], message: pageError };
          }
        });
        return;
      }
      // All or nothing: the batch's other cells were not saved either; send them again now.
      flushAgain = true;
      return;
    }
    if (reply.status === 0 || reply.status >= 500 || reply.status === 429) {
      batch.forEach((cell) => {
        cell.failed = true;
      });
      scheduleRetry();
      return;
    }
    // 400 without per-cell problems, 401, 403, 404: keep every value, say why, wait for Retry.
    batch.forEach((cell) => {
      cell.failed = true;
    });
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    pageError = f(
      t(
        "Not saved (%(why)s). Your values stay here; sign in again in another tab if needed, " +
          "then press Retry now."
      ),
      { why: detail || f(t("the server refused, status %(status)s"), { status: reply.status }) }
    );
  }

  function scheduleRetry() {
    retryWaiting = true;
    clearTimeout(timer);
    timer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  /* Resolves once nothing is sending or waiting to be sent (or after `limit` ms). */
  function settled(limit) {
    const until = Date.now() + limit;
    return new Promise((resolve) => {
      (function wait() {
        const busy =
          requestInFlight || cells.some((cell) => ["dirty", "saving"].includes(stateOf(cell)));
        if (!busy || Date.now() > until) {
          resolve();
          return;
        }
        if (!requestInFlight && !retryWaiting) flush();
        setTimeout(wait, 100);
      })();
    });
  }

  retryButton.addEventListener("click", () => {
    pageError = "";
    retryDelay = FIRST_RETRY_MS;
    flush();
  });
  window.addEventListener("online", () => {
    if (retryWaiting) flush();
  });
  window.addEventListener("beforeunload", (event) => {
    if (unsavedCells().length === 0) return;
    event.preventDefault();
    event.returnValue = "";
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && timer && !retryWaiting) flush();
    if (document.visibilityState === "visible") poll();
  });

  /* Signing out saves what is pending first, warns if something could not be saved, then clears
   * this user's local copy so nobody else on this browser sees it. */
  document.querySelectorAll('form[data-logout]').forEach((form) => {
    form.addEventListener("submit", async (event) => {
      if (!store || form.dataset.saved === "true") return;
      event.preventDefault();
      note(t("Saving before signing out…"));
      await settled(8000);
      const left = unsavedCells().length;
      if (left) {
        const message = f(
          ngettext(
            "%(count)s value could not be saved and will be lost if you sign out now. Sign out anyway?",
            "%(count)s values could not be saved and will be lost if you sign out now. Sign out anyway?",
            left
          ),
          { count: left }
        );
        if (!window.confirm(message)) {
          note(t("Not signed out: your values stay here."));
          return;
        }
      }
      await store.clearUser();
      form.dataset.saved = "true";
      cells.forEach((cell) => {
        cell.saved = check(cell.input.value, cell.max).value; // nothing left to warn about
        cell.conflict = null;
        cell.rejected = null;
      });
      form.submit();
    });
  });

  // ---------------------------------------------------------------- co-teachers' changes

  /* A co-teacher's saves (or this teacher's in another tab) appear without a reload, marked as
   * theirs. A cell with a value not saved here keeps it: saving it meets the usual conflict. */
  function poll() {
    if (document.visibilityState === "hidden") return;
    fetch(`${saveUrl}?since=${cursor}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((body) => {
        if (!body || !Array.isArray(body.changes)) return;
        cursor = body.cursor;
        const seen = [];
        body.changes.forEach((change) => {
          const cell = cellsByKey[change.student + "|" + change.skill];
          if (!cell || change.version === cell.version) return;
          if (["dirty", "saving", "retry", "invalid", "rejected", "conflict"].includes(stateOf(cell))) {
            return;
          }
          cell.input.value = change.value;
          cell.valueOnFocus = change.value;
          cell.saved = change.value;
          setVersion(cell, change.version);
          cell.justSaved = false;
          cell.theirs = change.mine ? "" : change.by || t("someone else");
          paint(cell);
          if (cell.theirs) {
            seen.push(
              f(t("%(who)s changed %(cell)s to %(value)s."), {
                who: cell.theirs,
                cell: cell.input.getAttribute("aria-label"),
                value: change.value || t("empty"),
              })
            );
          }
        });
        if (seen.length) note(seen.join(" "));
      })
      .catch(() => {});
  }

  // ---------------------------------------------------------------- editing, undo

  /* A cell's value changed (typed, pasted, filled, undone): check, keep locally, save soon. */
  function edited(cell, reason) {
    const value = cell.input.value;
    if (/^[ax]$/.test(value)) cell.input.value = value.toUpperCase();
    if (cell.rejected && check(cell.input.value, cell.max).value !== cell.rejected.value) {
      cell.rejected = null;
    }
    cell.reason = reason !== undefined ? reason : reasonInput ? reasonInput.value.trim() : "";
    cell.justSaved = false;
    cell.theirs = "";
    markUnsaved();
    remember(cell);
    paint(cell);
    renderStatus();
    flushSoon();
  }

  /* Set many cells at once as one step the teacher can undo. */
  function change(label, updates) {
    const changes = [];
    updates.forEach(({ cell, value }) => {
      commitTyping(cell);
      if (cell.input.value === value) return;
      changes.push({ cell, before: cell.input.value, after: value });
      cell.input.value = value;
      cell.valueOnFocus = cell.input.value;
      edited(cell);
    });
    if (changes.length) pushUndo(label, changes);
    return changes.length;
  }

  /* Typing in a cell becomes one undo step when the cell is left (or undo is asked for). */
  function commitTyping(cell) {
    if (!cell || cell.input.value === cell.valueOnFocus) return;
    pushUndo(f(t("typing in %(cell)s"), { cell: cell.input.getAttribute("aria-label") }), [
      { cell, before: cell.valueOnFocus, after: cell.input.value },
    ]);
    cell.valueOnFocus = cell.input.value;
  }

  function pushUndo(label, changes) {
    undoStack.push({ label, changes });
    renderUndo();
  }

  function renderUndo() {
    if (!undoButton) return;
    const last = undoStack[undoStack.length - 1];
    undoButton.disabled = !last;
    undoButton.textContent = last ? f(t("Undo %(what)s"), { what: last.label }) : t("Undo");
  }

  /* Take back the last step, also when it was saved: the earlier values are saved again as new
   * versions (through the same save), so the history shows both, the undo marked as one. */
  function undo() {
    if (!editable) return;
    if (selectedCell) commitTyping(selectedCell);
    const last = undoStack.pop();
    if (!last) {
      note(t("Nothing to undo."));
      return;
    }
    last.changes.forEach(({ cell, before }) => {
      cell.input.value = before;
      cell.valueOnFocus = before;
      edited(cell, t("Undo"));
    });
    renderUndo();
    note(
      f(
        ngettext("Undid %(what)s: %(count)s cell.", "Undid %(what)s: %(count)s cells.", last.changes.length),
        { what: last.label, count: last.changes.length }
      )
    );
    focusCell(last.changes[0].cell);
  }

  if (undoButton) undoButton.addEventListener("click", undo);
  renderUndo();

  table.addEventListener("input", (event) => {
    const cell = cellsByInput.get(event.target);
    if (cell && editable) edited(cell);
  });

  // ---------------------------------------------------------------- paste

  const pasteStudentsList = pasteStudents(
    rowHeads.map((th, row) => ({
      row,
      id: Number(th.dataset.student),
      sis: th.dataset.sis || "",
      family: th.dataset.family || "",
      given: th.dataset.given || "",
      name: th.textContent.trim(),
    }))
  );

  table.addEventListener("paste", (event) => {
    const cell = cellsByInput.get(event.target);
    if (!cell || !editable) return;
    const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    if (!/[\t\r\n]/.test(text.replace(/[\r\n]+$/, ""))) return; // one value: the cell takes it
    event.preventDefault();
    const plan = planPaste(readBlock(text), {
      students: pasteStudentsList,
      skills,
      anchor: { row: cell.row, col: cell.col },
      rows: grid.length,
      cols: skills.length,
    });
    if (plan.isCertain) {
      applyPaste(plan, cell);
    } else {
      showPastePreview(plan, cell);
    }
  });

  function applyPaste(plan, anchor) {
    const updates = plan.placements.map((placement) => ({
      cell: grid[placement.row][placement.col],
      value: placement.value,
    }));
    const count = change(
      f(ngettext("paste of %(count)s value", "paste of %(count)s values", updates.length), {
        count: updates.length,
      }),
      updates
    );
    const how = plan.byMeaning
      ? t("each on its student and skill, by the names and skills it carried")
      : t("from the cell you pasted into");
    let message = f(
      ngettext("Pasted %(count)s value, %(how)s.", "Pasted %(count)s values, %(how)s.", count),
      { count, how }
    );
    flushSoon(0); // a paste is a finished change: send it now, not after a typing pause
    if (plan.unplaced.length) {
      message +=
        " " +
        f(
          ngettext(
            "%(count)s value left out (not placed).",
            "%(count)s values left out (not placed).",
            plan.unplaced.length
          ),
          { count: plan.unplaced.length }
        );
    }
    note(message);
    focusCell(anchor);
  }

  function showPastePreview(plan, anchor) {
    const reasons = pasteDialog.querySelector("#paste-reasons");
    const body = pasteDialog.querySelector("#paste-places tbody");
    const left = pasteDialog.querySelector("#paste-left");
    const confirm = pasteDialog.querySelector("#paste-confirm");
    reasons.replaceChildren(
      ...plan.reasons.map((reason) => {
        const item = document.createElement("li");
        item.textContent = reason;
        return item;
      })
    );
    body.replaceChildren(
      ...plan.placements.map((placement) => {
        const target = grid[placement.row][placement.col];
        const row = document.createElement("tr");
        [
          rowHeads[placement.row].textContent.trim(),
          skills[placement.col].code,
          target.input.value || t("empty"),
          placement.value || t("empty"),
        ].forEach((text, index) => {
          const cellElement = document.createElement(index === 0 ? "th" : "td");
          if (index === 0) cellElement.scope = "row";
          cellElement.textContent = text;
          row.append(cellElement);
        });
        return row;
      })
    );
    left.replaceChildren(
      ...plan.unplaced.map((item) => {
        const entry = document.createElement("li");
        entry.textContent = f(t("Line %(line)s, “%(text)s”: %(why)s"), item);
        return entry;
      })
    );
    left.previousElementSibling.hidden = plan.unplaced.length === 0;
    confirm.textContent = f(
      ngettext("Paste %(count)s value", "Paste %(count)s values", plan.placements.length),
      { count: plan.placements.length }
    );
    confirm.disabled = plan.placements.length === 0;
    pasteDialog.plan = plan;
    pasteDialog.anchor = anchor;
    pasteDialog.returnValue = "";
    pasteDialog.showModal();
    note(t("Nothing pasted yet: check where the values would go."));
  }

  if (pasteDialog) {
    pasteDialog.addEventListener("close", () => {
      const anchor = pasteDialog.anchor;
      if (pasteDialog.returnValue === "paste") {
        applyPaste(pasteDialog.plan, anchor);
      } else {
        note(t("Paste cancelled: nothing changed."));
        focusCell(anchor);
      }
    });
  }

  function note(text) {
    noteBox.textContent = text;
  }

  // ---------------------------------------------------------------- moving around

  function focusCell(cell) {
    if (!cell) return;
    editing = false;
    cell.input.focus();
    cell.input.select();
  }

  function cellAt(row, col) {
    return (grid[row] || [])[col] || null;
  }

  function move(cell, rowStep, colStep) {
    const target = cellAt(cell.row + rowStep, cell.col + colStep);
    if (target) focusCell(target);
    return Boolean(target);
  }

  function nextInReadingOrder(cell, step) {
    return cells[cells.indexOf(cell) + step] || null;
  }

  function clearRange() {
    cells.forEach((cell) => cell.td.classList.remove("is-in-range"));
    rangeEnd = null;
  }

  function rangeCells() {
    if (!selectedCell || !rangeEnd) return [];
    const from = Math.min(selectedCell.row, rangeEnd.row);
    const to = Math.max(selectedCell.row, rangeEnd.row);
    const found = [];
    for (let row = from; row <= to; row += 1) found.push(grid[row][selectedCell.col]);
    return found;
  }

  function extendRange(step) {
    const end = cellAt((rangeEnd || selectedCell).row + step, selectedCell.col);
    if (!end) return;
    rangeEnd = end;
    cells.forEach((cell) => cell.td.classList.remove("is-in-range"));
    rangeCells().forEach((cell) => cell.td.classList.add("is-in-range"));
    note(
      f(t("%(count)s cells selected in %(skill)s: Ctrl+D fills them with the top one."), {
        count: rangeCells().length,
        skill: selectedCell.skill,
      })
    );
  }

  /* Ctrl+D, as in spreadsheets: the top cell of the selected column range fills the others; with
   * no range, the cell takes the value above it. */
  function fillDown(cell) {
    const range = rangeCells();
    let updates;
    if (range.length > 1) {
      const value = range[0].input.value;
      updates = range.slice(1).map((target) => ({ cell: target, value }));
    } else {
      const above = cellAt(cell.row - 1, cell.col);
      if (!above) return;
      updates = [{ cell, value: above.input.value }];
    }
    const count = change(
      f(ngettext("fill down of %(count)s cell", "fill down of %(count)s cells", updates.length), {
        count: updates.length,
      }),
      updates
    );
    note(f(ngettext("Filled %(count)s cell.", "Filled %(count)s cells.", count), { count }));
  }

  table.addEventListener("focusin", (event) => {
    const cell = cellsByInput.get(event.target);
    if (!cell) return;
    if (selectedCell && selectedCell !== cell) {
      selectedCell.td.classList.remove("is-selected");
      commitTyping(selectedCell);
    }
    selectedCell = cell;
    cell.td.classList.add("is-selected");
    cell.valueOnFocus = cell.input.value;
    cell.input.select();
    showPhoneRow(cell.row);
  });

  // A first click or tap selects the whole cell (typing replaces it); a click in a focused cell
  // edits in place.
  table.addEventListener("mousedown", (event) => {
    const cell = cellsByInput.get(event.target);
    if (!cell) return;
    if (!event.shiftKey) clearRange();
    if (document.activeElement === cell.input) {
      editing = true;
    } else {
      event.preventDefault();
      focusCell(cell);
    }
  });

  document.addEventListener("keydown", (event) => {
    const isUndo =
      (event.ctrlKey || event.metaKey) && !event.shiftKey && (event.key === "z" || event.key === "Z");
    if (!isUndo || !editable) return;
    if (event.target === reasonInput) return; // the reason field keeps its own undo
    if (pasteDialog && pasteDialog.open) return;
    event.preventDefault();
    undo();
  });

  table.addEventListener("keydown", (event) => {
    const cell = cellsByInput.get(event.target);
    if (!cell) return;
    const input = cell.input;
    if (event.altKey && (event.key === "h" || event.key === "H")) {
      event.preventDefault();
      showHistory(cell);
      return;
    }
    if ((event.ctrlKey || event.metaKey) && (event.key === "d" || event.key === "D")) {
      event.preventDefault();
      if (editable) fillDown(cell);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.shiftKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      extendRange(event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (event.key !== "Shift") clearRange();
    const atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    const atEnd = input.selectionStart === input.value.length;
    switch (event.key) {
      case "ArrowUp":
        event.preventDefault();
        move(cell, -1, 0);
        break;
      case "ArrowDown":
        event.preventDefault();
        move(cell, 1, 0);
        break;
      case "ArrowLeft":
        if (editing && !atStart) return;
        event.preventDefault();
        move(cell, 0, -1);
        break;
      case "ArrowRight":
        if (editing && !atEnd) return;
        event.preventDefault();
        move(cell, 0, 1);
        break;
      case "Enter":
        event.preventDefault();
        if (phoneMode.matches) {
          // One student at a time: on to the next skill, then the next student.
          focusCell(nextInReadingOrder(cell, event.shiftKey ? -1 : 1) || cell);
        } else if (event.shiftKey) {
          move(cell, -1, 0);
        } else if (!move(cell, 1, 0)) {
          focusCell(cellAt(0, cell.col + 1)); // the last row: on to the next skill's first row
        }
        break;
      case "Tab": {
        if (cell.conflict) return; // Tab reaches the conflict's two buttons
        if (phoneMode.matches) return; // the phone's own buttons come next
        const target = nextInReadingOrder(cell, event.shiftKey ? -1 : 1);
        if (!target) return; // leave the grid
        event.preventDefault();
        focusCell(target);
        break;
      }
      case "F2":
        event.preventDefault();
        editing = true;
        input.setSelectionRange(input.value.length, input.value.length);
        break;
      case "Escape":
        if (input.value !== cell.valueOnFocus && editable) {
          event.preventDefault();
          input.value = cell.valueOnFocus;
          edited(cell);
          input.select();
        }
        editing = false;
        break;
      default:
        break;
    }
  });

  // ---------------------------------------------------------------- phone: one student at a time

  let phoneRow = 0;

  function showPhoneRow(row) {
    if (!phoneNav || row === phoneRow && table.dataset.phoneRow === String(row)) return;
    phoneRow = Math.max(0, Math.min(row, grid.length - 1));
    table.dataset.phoneRow = String(phoneRow);
    rowHeads.forEach((th, index) => {
      th.parentElement.classList.toggle("is-phone-current", index === phoneRow);
    });
    phoneNav.querySelector("#phone-position").textContent = f(
      t("Student %(n)s of %(count)s: %(name)s"),
      { n: phoneRow + 1, count: grid.length, name: rowHeads[phoneRow].textContent.trim() }
    );
    phoneNav.querySelector("#phone-previous").disabled = phoneRow === 0;
    phoneNav.querySelector("#phone-next").disabled = phoneRow === grid.length - 1;
  }

  if (phoneNav && grid.length) {
    phoneNav.hidden = false;
    phoneNav.querySelector("#phone-previous").addEventListener("click", () => {
      showPhoneRow(phoneRow - 1);
      focusCell(grid[phoneRow][0]);
    });
    phoneNav.querySelector("#phone-next").addEventListener("click", () => {
      showPhoneRow(phoneRow + 1);
      focusCell(grid[phoneRow][0]);
    });
    phoneNav.querySelectorAll("[data-status]").forEach((button) => {
      button.addEventListener("click", () => {
        if (!editable) return;
        const value = button.dataset.status;
        const name = rowHeads[phoneRow].textContent.trim();
        change(f(t("%(status)s for %(name)s"), { status: button.textContent.trim(), name }),
          grid[phoneRow].map((cell) => ({ cell, value }))
        );
        note(f(t("%(name)s: %(status)s on every skill."), { name, status: button.textContent.trim() }));
      });
    });
    showPhoneRow(0);
  }

  // ---------------------------------------------------------------- history

  function showHistory(cell) {
    cell = cell || selectedCell || cells[0];
    if (!cell) return;
    const url =
      historyUrl + "?student=" + encodeURIComponent(cell.student) +
      "&skill=" + encodeURIComponent(cell.skill);
    historyBody.textContent = t("Loading…");
    historyDialog.returnCell = cell;
    if (!historyDialog.open) historyDialog.showModal();
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then((html) => {
        historyBody.innerHTML = html; // a partial rendered by this server (escaped by Django)
      })
      .catch(() => {
        historyBody.textContent = t("The history could not be loaded. Try again in a moment.");
      });
  }

  if (historyButton) historyButton.addEventListener("click", () => showHistory(null));
  historyDialog.addEventListener("close", () => {
    if (historyDialog.returnCell) focusCell(historyDialog.returnCell);
  });

  // ---------------------------------------------------------------- opening

  cells.forEach(paint);
  renderStatus();
  replay().then(() => {
    // The first empty cell, in the order Enter goes (down a skill, then the next skill), is
    // where entry goes on; a restored value is not empty any more.
    const downTheColumns = skills.flatMap((_, col) => grid.map((row) => row[col]));
    const target = downTheColumns.find((cell) => cell.input.value === "") || cells[0];
    if (target && !document.querySelector("dialog[open]")) focusCell(target);
    table.dataset.ready = "true";
    document.dispatchEvent(new CustomEvent("grid:ready"));
  });
  setInterval(poll, POLL_MS);
})();
