/* Score grid: spreadsheet keys, paste from a spreadsheet, checks as typed, batched autosave.
 *
 * Saves through the bulk score API (one request per batch, every changed valid cell with the
 * version it was based on). Nothing typed is dropped: a value the server refuses stays in its
 * cell with the reason, a failed request is retried with backoff, a conflict (a co-teacher saved
 * the cell meanwhile) waits for the teacher's choice, and leaving with unsaved values warns.
 * An ES module, no libraries.
 */
import { checkCell } from "./score_cells.js";

(function () {
  var table = document.getElementById("score-grid");
  if (!table) return;

  var DEBOUNCE_MS = 600;
  var FIRST_RETRY_MS = 1000;
  var MAX_RETRY_MS = 30000;
  var UNSAVED_STATES = ["dirty", "saving", "retry", "invalid", "rejected", "conflict"];
  var MARKS = {
    clean: "",
    saved: "✓",
    dirty: "•",
    saving: "…",
    retry: "↻",
    invalid: "!",
    rejected: "!",
    conflict: "⚠",
  };

  var editable = table.dataset.editable === "true";
  var saveUrl = table.dataset.saveUrl;
  var historyUrl = table.dataset.historyUrl;
  var csrfToken = table.dataset.csrf;
  var statusBox = document.getElementById("grid-status");
  var noteBox = document.getElementById("grid-note");
  var retryButton = document.getElementById("grid-retry");
  var historyButton = document.getElementById("grid-history-button");
  var historyDialog = document.getElementById("history-dialog");
  var historyBody = document.getElementById("history-body");

  var grid = []; // grid[row][col] = cell
  var cells = []; // every cell, in reading order
  var cellsByKey = {}; // "student|skill" -> cell
  var cellsByInput = new Map();

  var timer = null; // the debounce or retry timer
  var requestInFlight = false;
  var flushAgain = false;
  var retryDelay = FIRST_RETRY_MS;
  var retryWaiting = false;
  var pageError = "";
  var selectedCell = null;
  var editing = false; // F2 or a second click: arrows move the caret, not the selection

  // ---------------------------------------------------------------- checking what was typed

  /* The same rule as assessments.cells.parse_cell (score_cells.js, one table of cases). */
  var check = checkCell;

  // ---------------------------------------------------------------- cells and their state

  table.querySelectorAll("input.cell-input").forEach(function (input) {
    var version = input.dataset.version;
    var cell = {
      input: input,
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
      justSaved: false,
      failed: false, // the last request failed (network or server error): send again
      rejected: null, // {value, message}: the server refused this value
      conflict: null, // {current, version, by}: saved meanwhile by someone else
      valueOnFocus: input.value,
    };
    (grid[cell.row] = grid[cell.row] || [])[cell.col] = cell;
    cells.push(cell);
    cellsByKey[cell.student + "|" + cell.skill] = cell;
    cellsByInput.set(input, cell);
  });

  function stateOf(cell) {
    if (cell.conflict) return "conflict";
    var result = check(cell.input.value, cell.max);
    if (!result.ok) return "invalid";
    if (cell.rejected && cell.rejected.value === result.value) return "rejected";
    if (cell.sending !== null) return result.value === cell.sending ? "saving" : "dirty";
    if (result.value === cell.saved) return cell.justSaved ? "saved" : "clean";
    return cell.failed ? "retry" : "dirty";
  }

  function messageOf(cell, state) {
    switch (state) {
      case "saved":
        return "Saved";
      case "dirty":
        return "Not saved yet";
      case "saving":
        return "Saving…";
      case "retry":
        return "Not saved yet: the server could not be reached; trying again.";
      case "invalid":
        return check(cell.input.value, cell.max).reason;
      case "rejected":
        return cell.rejected.message;
      default:
        return "";
    }
  }

  function paint(cell) {
    var state = stateOf(cell);
    cell.td.dataset.state = state;
    cell.mark.textContent = MARKS[state];
    var isWrong = state === "invalid" || state === "rejected";
    cell.input.setAttribute("aria-invalid", isWrong ? "true" : "false");
    if (state === "conflict") {
      paintConflict(cell);
    } else {
      cell.message.textContent = messageOf(cell, state);
    }
    var isShown = isWrong || state === "conflict" || state === "retry";
    cell.message.classList.toggle("is-shown", isShown);
  }

  function paintConflict(cell) {
    var conflict = cell.conflict;
    var mine = check(cell.input.value, cell.max);
    var mineShown = mine.ok ? mine.value || "empty" : cell.input.value.trim();
    var theirs = conflict.current || "empty";
    var who = conflict.by || "someone else";
    cell.message.textContent = "";
    var text = document.createElement("span");
    text.className = "conflict-text";
    text.textContent = "Changed by " + who + " to " + theirs + ".";
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "conflict-keep";
    keep.textContent = "Keep mine (" + mineShown + ")";
    keep.disabled = !mine.ok;
    keep.addEventListener("click", function () {
      keepMine(cell);
    });
    var take = document.createElement("button");
    take.type = "button";
    take.className = "conflict-take secondary";
    take.textContent = "Take theirs (" + theirs + ")";
    take.addEventListener("click", function () {
      takeTheirs(cell);
    });
    cell.message.append(text, " ", keep, " ", take);
  }

  function keepMine(cell) {
    cell.version = cell.conflict.version;
    cell.saved = cell.conflict.current;
    cell.input.dataset.version = cell.version === null ? "" : String(cell.version);
    cell.conflict = null;
    cell.failed = false;
    paint(cell);
    focusCell(cell);
    flushSoon(0);
    renderStatus();
  }

  function takeTheirs(cell) {
    cell.input.value = cell.conflict.current;
    cell.saved = cell.conflict.current;
    cell.version = cell.conflict.version;
    cell.input.dataset.version = cell.version === null ? "" : String(cell.version);
    cell.conflict = null;
    cell.rejected = null;
    cell.failed = false;
    cell.justSaved = true;
    paint(cell);
    focusCell(cell);
    renderStatus();
  }

  function renderStatus() {
    var counts = {};
    UNSAVED_STATES.forEach(function (state) {
      counts[state] = 0;
    });
    var unsaved = 0;
    cells.forEach(function (cell) {
      var state = stateOf(cell);
      if (state in counts) {
        counts[state] += 1;
        unsaved += 1;
      }
    });
    var parts = [];
    if (unsaved === 0 && !pageError) {
      parts.push("All saved");
    } else {
      parts.push(unsaved + " unsaved");
      if (counts.saving) parts.push("saving…");
      if (counts.dirty && !counts.saving) parts.push("saving soon");
      if (counts.conflict) {
        parts.push(
          counts.conflict + " changed by someone else: choose which value to keep"
        );
      }
      var toFix = counts.invalid + counts.rejected;
      if (toFix) parts.push(toFix + " to fix (see the red cells)");
      if (counts.retry) parts.push("the server could not be reached; retrying");
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

  function hasUnsaved() {
    return cells.some(function (cell) {
      return UNSAVED_STATES.indexOf(stateOf(cell)) !== -1;
    });
  }

  // ---------------------------------------------------------------- saving

  function flushSoon(delay) {
    if (!editable) return;
    clearTimeout(timer);
    timer = setTimeout(flush, delay === undefined ? DEBOUNCE_MS : delay);
  }

  function flush() {
    clearTimeout(timer);
    timer = null;
    retryWaiting = false;
    if (requestInFlight) {
      flushAgain = true;
      return;
    }
    var batch = cells.filter(function (cell) {
      var state = stateOf(cell);
      return state === "dirty" || state === "retry";
    });
    if (batch.length === 0) {
      renderStatus();
      return;
    }
    var scores = batch.map(function (cell) {
      cell.sending = check(cell.input.value, cell.max).value;
      cell.failed = false;
      cell.justSaved = false;
      paint(cell);
      return { student: cell.student, skill: cell.skill, value: cell.sending, version: cell.version };
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
      body: JSON.stringify({ scores: scores }),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            return { status: response.status, body: body };
          });
      })
      .catch(function () {
        return { status: 0, body: null };
      })
      .then(function (reply) {
        requestInFlight = false;
        var sent = batch.map(function (cell) {
          var value = cell.sending;
          cell.sending = null;
          return value;
        });
        handleReply(batch, sent, reply);
        batch.forEach(paint);
        renderStatus();
        if (flushAgain) {
          flushAgain = false;
          flushSoon(DEBOUNCE_MS);
        }
      });
  }

  function handleReply(batch, sent, reply) {
    var body = reply.body;
    if (reply.status === 200 && body && Array.isArray(body.saved)) {
      pageError = "";
      retryDelay = FIRST_RETRY_MS;
      body.saved.forEach(function (item) {
        var cell = cellsByKey[item.student + "|" + item.skill];
        if (!cell) return;
        cell.saved = item.value;
        cell.version = item.version;
        cell.input.dataset.version = item.version === null ? "" : String(item.version);
        cell.rejected = null;
        cell.justSaved = true;
        var typed = check(cell.input.value, cell.max);
        if (typed.ok && typed.value === item.value && document.activeElement !== cell.input) {
          cell.input.value = item.value; // "a" → "A", "3.50" → "3.5"
        }
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
      var leftOver = false;
      body.problems.forEach(function (problem) {
        var cell = cellsByKey[problem.student + "|" + problem.skill];
        var position = batch.indexOf(cell);
        if (!cell || position === -1) {
          pageError = problem.message;
          leftOver = true;
          return;
        }
        if (problem.is_conflict && problem.current === sent[position]) {
          // Saved already (e.g. a reply lost on the way back): same value, so no conflict.
          cell.saved = problem.current;
          cell.version = problem.current_version;
          cell.input.dataset.version = cell.version === null ? "" : String(cell.version);
          cell.justSaved = true;
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
        batch.forEach(function (cell, position) {
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
      batch.forEach(function (cell) {
        cell.failed = true;
      });
      scheduleRetry();
      return;
    }
    // 400 without per-cell problems, 401, 403, 404: keep every value, say why, wait for Retry.
    batch.forEach(function (cell) {
      cell.failed = true;
    });
    var detail = body && typeof body.detail === "string" ? body.detail : "";
    pageError =
      "Not saved (" + (detail || "the server refused, status " + reply.status) + "). " +
      "Your values stay here; sign in again in another tab if needed, then press Retry now.";
  }

  function scheduleRetry() {
    retryWaiting = true;
    clearTimeout(timer);
    timer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  retryButton.addEventListener("click", function () {
    pageError = "";
    retryDelay = FIRST_RETRY_MS;
    flush();
  });
  window.addEventListener("online", function () {
    if (retryWaiting) flush();
  });
  window.addEventListener("beforeunload", function (event) {
    if (!hasUnsaved()) return;
    event.preventDefault();
    event.returnValue = "";
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && timer && !retryWaiting) flush();
  });

  // ---------------------------------------------------------------- editing

  function edited(cell) {
    var value = cell.input.value;
    if (/^[ax]$/.test(value)) cell.input.value = value.toUpperCase();
    if (cell.rejected && check(cell.input.value, cell.max).value !== cell.rejected.value) {
      cell.rejected = null;
    }
    cell.justSaved = false;
    paint(cell);
    renderStatus();
    flushSoon();
  }

  table.addEventListener("input", function (event) {
    var cell = cellsByInput.get(event.target);
    if (cell && editable) edited(cell);
  });

  table.addEventListener("paste", function (event) {
    var cell = cellsByInput.get(event.target);
    if (!cell || !editable) return;
    var text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    if (!/[\t\r\n]/.test(text)) return; // one value: the cell takes it as typed
    event.preventDefault();
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    var filled = 0;
    var outside = 0;
    lines.forEach(function (line, rowOffset) {
      line.split("\t").forEach(function (value, colOffset) {
        var target = (grid[cell.row + rowOffset] || [])[cell.col + colOffset];
        if (!target) {
          if (value.trim() !== "") outside += 1;
          return;
        }
        target.input.value = value.trim();
        edited(target);
        filled += 1;
      });
    });
    note(
      "Pasted " + filled + " cell" + (filled === 1 ? "" : "s") +
        (outside ? "; " + outside + " value" + (outside === 1 ? "" : "s") +
          " outside the grid left out." : ".")
    );
    cell.input.select();
  });

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
    var target = cellAt(cell.row + rowStep, cell.col + colStep);
    if (target) focusCell(target);
    return Boolean(target);
  }

  function nextInReadingOrder(cell, step) {
    var index = cells.indexOf(cell) + step;
    return cells[index] || null;
  }

  table.addEventListener("focusin", function (event) {
    var cell = cellsByInput.get(event.target);
    if (!cell) return;
    if (selectedCell) selectedCell.td.classList.remove("is-selected");
    selectedCell = cell;
    cell.td.classList.add("is-selected");
    cell.valueOnFocus = cell.input.value;
    cell.input.select();
  });

  // A first click selects the whole cell (typing replaces it); a click in a focused cell edits.
  table.addEventListener("mousedown", function (event) {
    var cell = cellsByInput.get(event.target);
    if (!cell) return;
    if (document.activeElement === cell.input) {
      editing = true;
    } else {
      event.preventDefault();
      focusCell(cell);
    }
  });

  table.addEventListener("keydown", function (event) {
    var cell = cellsByInput.get(event.target);
    if (!cell) return;
    var input = cell.input;
    if (event.altKey && (event.key === "h" || event.key === "H")) {
      event.preventDefault();
      showHistory(cell);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    var atEnd = input.selectionStart === input.value.length;
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
        if (event.shiftKey) {
          move(cell, -1, 0);
        } else if (!move(cell, 1, 0)) {
          focusCell(cellAt(0, cell.col + 1)); // the last row: on to the next skill's first row
        }
        break;
      case "Tab":
        if (cell.conflict) return; // Tab reaches the conflict's two buttons
        var target = nextInReadingOrder(cell, event.shiftKey ? -1 : 1);
        if (!target) return; // leave the grid
        event.preventDefault();
        focusCell(target);
        break;
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

  // ---------------------------------------------------------------- history

  function showHistory(cell) {
    cell = cell || selectedCell || cells[0];
    if (!cell) return;
    var url =
      historyUrl + "?student=" + encodeURIComponent(cell.student) +
      "&skill=" + encodeURIComponent(cell.skill);
    historyBody.textContent = "Loading…";
    historyDialog.returnCell = cell;
    if (!historyDialog.open) historyDialog.showModal();
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        historyBody.innerHTML = html; // a partial rendered by this server (escaped by Django)
      })
      .catch(function () {
        historyBody.textContent = "The history could not be loaded. Try again in a moment.";
      });
  }

  historyButton.addEventListener("click", function () {
    showHistory(null);
  });
  historyDialog.addEventListener("close", function () {
    if (historyDialog.returnCell) focusCell(historyDialog.returnCell);
  });

  cells.forEach(paint);
  renderStatus();
})();
