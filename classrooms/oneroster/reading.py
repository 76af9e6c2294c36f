"""Reading an export: the source (a zip or a folder), each CSV file's text, header and rows, and
the manifest, which says the OneRoster version and whether each file is bulk, delta or absent.

Problems here name the file and, where there is one, the line and column; a file whose header
cannot be used is not read further.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any

from classrooms.oneroster.results import RosterProblem
from classrooms.oneroster.spec import (
    COLUMNS,
    FILE_MODES,
    KNOWN_FILES,
    MANIFEST,
    OPTIONAL_FILES,
    REQUIRED_COLUMNS,
    REQUIRED_FILES,
    VERSIONS,
)

MAX_UPLOAD_BYTES = 50_000_000
# Unpacked, the CSV files of one export may not exceed this (a guard against zip bombs); a
# district of 100 000 students and 250 000 enrollments unpacks to about 60 MB.
MAX_UNPACKED_BYTES = 300_000_000
# A file is read as a stream, line by line, and its reading stops at the first of these: a line
# longer than this, this many blank lines in a row (200 MB of newlines zip to 200 KB), or this
# many problems in one file (the rest would only repeat them).
MAX_LINE_CHARACTERS = 100_000
MAX_BLANK_LINES = 1_000
MAX_PROBLEMS_PER_FILE = 200


_UNDECODABLE = re.compile("[\udc80-\udcff]")


class RosterFile:
    """One CSV file of an export, opened as a binary stream when it is read (never unpacked
    whole into memory)."""

    def __init__(self, opener: Callable[[], IO[bytes]]) -> None:
        self._opener = opener

    def open(self) -> IO[bytes]:
        return self._opener()


@dataclass
class RosterSource:
    """The files of one OneRoster export (by their OneRoster name) and problems reading them."""

    label: str
    files: dict[str, RosterFile] = field(default_factory=dict)
    problems: list[RosterProblem] = field(default_factory=list)
    sha256: str = ""


def _canonical_file_name(name: str) -> str | None:
    by_lower = {known.lower(): known for known in KNOWN_FILES}
    return by_lower.get(name.lower())


def roster_source_from_zip(*, data: bytes, label: str) -> RosterSource:
    """Read a zipped export. The CSV files may sit at the top of the zip or in one folder in it
    (where manifest.csv is); other files are ignored."""
    source = RosterSource(label=label, sha256=hashlib.sha256(data).hexdigest())
    if len(data) > MAX_UPLOAD_BYTES:
        source.problems.append(
            RosterProblem(
                label,
                None,
                "",
                f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB, the most an "
                "import takes; run the oneroster_import command on the server instead.",
            )
        )
        return source
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError):
        source.problems.append(
            RosterProblem(
                label,
                None,
                "",
                "this is not a zip file. Upload the OneRoster export as a .zip holding "
                "manifest.csv, orgs.csv, academicSessions.csv, users.csv, classes.csv and "
                "enrollments.csv.",
            )
        )
        return source
    manifests = [
        info
        for info in members
        if PurePosixPath(info.filename).name.lower() == MANIFEST.lower()
        and "__MACOSX" not in info.filename
    ]
    if not manifests:
        source.problems.append(RosterProblem(MANIFEST, None, "", "the zip holds no manifest.csv."))
        return source
    folder = min((PurePosixPath(info.filename).parent for info in manifests), key=str)
    chosen = [
        info
        for info in members
        if PurePosixPath(info.filename).parent == folder
        and _canonical_file_name(PurePosixPath(info.filename).name) is not None
    ]
    if sum(info.file_size for info in chosen) > MAX_UNPACKED_BYTES:
        source.problems.append(
            RosterProblem(
                label,
                None,
                "",
                f"the unpacked files are larger than {MAX_UNPACKED_BYTES // 1_000_000} MB.",
            )
        )
        return source
    for info in chosen:
        name = _canonical_file_name(PurePosixPath(info.filename).name)
        assert name is not None  # noqa: S101 (chosen only holds known names)
        source.files[name] = RosterFile(partial(archive.open, info))
    return source


def roster_source_from_path(*, path: Path) -> RosterSource:
    """Read an export from a folder holding the CSV files, or from a .zip file."""
    if path.is_file():
        return roster_source_from_zip(data=path.read_bytes(), label=str(path))
    source = RosterSource(label=str(path))
    if not path.is_dir():
        source.problems.append(RosterProblem(str(path), None, "", "no such folder or zip file."))
        return source
    digest = hashlib.sha256()
    for child in sorted(path.iterdir()):
        name = _canonical_file_name(child.name)
        if name is None or not child.is_file():
            continue
        digest.update(name.encode() + b"\0")
        with child.open("rb") as handle:
            for chunk in iter(partial(handle.read, 1 << 20), b""):
                digest.update(chunk)
        source.files[name] = RosterFile(partial(_open_binary, child))
    source.sha256 = digest.hexdigest()
    return source


def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")


class Row:
    """One data row of a CSV file: the line it starts on and its values by column (the
    columns' positions are shared by the rows of a file, so a row costs its values only)."""

    __slots__ = ("_cells", "_positions", "file", "line")

    def __init__(self, file: str, line: int, cells: tuple[str, ...], positions: dict[str, int]):
        self.file = file
        self.line = line
        self._cells = cells
        self._positions = positions

    def __getitem__(self, column: str) -> str:
        position = self._positions.get(column)
        return "" if position is None else self._cells[position]


@dataclass
class Table:
    file: str
    rows: list[Row]
    header_columns: list[str]


class _Unreadable(Exception):
    """Reading a file stopped at a problem (already listed)."""


def _lines(file: str, stream: IO[bytes], problems: list[RosterProblem]) -> Iterator[str]:
    """The lines of a file as UTF-8 text (a byte-order mark dropped), read as a stream; a byte
    that is not UTF-8 or a line longer than MAX_LINE_CHARACTERS stops the reading with a problem
    naming its line."""
    head = stream.read(3)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problems.append(
            RosterProblem(
                file,
                1,
                "",
                'the file is UTF-16 text; save it as UTF-8 ("CSV UTF-8" in Excel) and import '
                "again.",
            )
        )
        raise _Unreadable
    pending = head[3:] if head == codecs.BOM_UTF8 else head
    # Bytes that are not UTF-8 become lone surrogates, found line by line below, so the problem
    # names the line they are on (a strict decoder fails a whole buffer ahead of it).
    text = io.TextIOWrapper(
        io.BufferedReader(_Prepended(pending, stream)),
        encoding="utf-8",
        errors="surrogateescape",
        newline="",
    )
    line = 0
    while True:
        line += 1
        chunk = text.readline(MAX_LINE_CHARACTERS + 1)
        undecodable = _UNDECODABLE.search(chunk)
        if undecodable is not None:
            byte = ord(undecodable.group()) - 0xDC00
            problems.append(
                RosterProblem(
                    file,
                    line,
                    "",
                    f"the file is not UTF-8 text (byte 0x{byte:02X} cannot be read); save it as "
                    'UTF-8 ("CSV UTF-8" in Excel) and import again.',
                )
            )
            raise _Unreadable
        if not chunk:
            return
        if len(chunk) > MAX_LINE_CHARACTERS:
            problems.append(
                RosterProblem(
                    file,
                    line,
                    "",
                    f"this line is longer than {MAX_LINE_CHARACTERS:,} characters; is this a "
                    "OneRoster CSV file?",
                )
            )
            raise _Unreadable
        yield chunk


class _Prepended(io.RawIOBase):
    """A binary stream that gives ``first`` and then the rest of ``stream``."""

    def __init__(self, first: bytes, stream: IO[bytes]) -> None:
        self._first = first
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._first:
            size = min(len(view), len(self._first))
            view[:size] = self._first[:size]
            self._first = self._first[size:]
            return size
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def read_table(file: str, source_file: RosterFile, problems: list[RosterProblem]) -> Table | None:
    """Parse one CSV file as a stream; header problems make it unreadable (None), row problems
    are listed (reading stops after MAX_PROBLEMS_PER_FILE of them)."""
    try:
        with source_file.open() as stream:
            return _read_rows(file, stream, problems)
    except _Unreadable:
        return None
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as error:
        problems.append(
            RosterProblem(file, None, "", f"cannot be unpacked from the zip ({error}).")
        )
        return None


def _read_rows(file: str, stream: IO[bytes], problems: list[RosterProblem]) -> Table | None:
    known = {column.lower(): column for column in COLUMNS[file]}
    reader = csv.reader(_lines(file, stream, problems))
    header: list[str] | None = None
    header_line = 1
    rows: list[Row] = []
    column_of: list[str | None] = []
    positions: dict[str, int] = {}
    problems_before = len(problems)
    blank_run = 0
    try:
        while True:
            start_line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if len(problems) - problems_before >= MAX_PROBLEMS_PER_FILE:
                problems.append(
                    RosterProblem(
                        file,
                        start_line,
                        "",
                        f"reading stopped after {MAX_PROBLEMS_PER_FILE} problems in this file; "
                        "fix these and import again.",
                    )
                )
                return None
            if not any(cell.strip() for cell in record):
                blank_run += 1
                if blank_run > MAX_BLANK_LINES:
                    problems.append(
                        RosterProblem(
                            file,
                            start_line - blank_run + 1,
                            "",
                            f"more than {MAX_BLANK_LINES:,} blank lines in a row from this "
                            "line; this does not look like a OneRoster export, so it was not "
                            "read further.",
                        )
                    )
                    return None
                continue
            blank_run = 0
            if header is None:
                header = [cell.strip().lstrip("\ufeff") for cell in record]
                header_line = start_line
                column_of = _header_columns(file, header, header_line, known, problems)
                positions = {
                    column: index for index, column in enumerate(column_of) if column is not None
                }
                continue
            if len(record) != len(header):
                problems.append(
                    RosterProblem(
                        file,
                        start_line,
                        "",
                        f"this row has {len(record)} values but the header has {len(header)} "
                        "columns; quote values that contain commas.",
                    )
                )
                continue
            if _has_nul(file, start_line, record, column_of, problems):
                continue
            rows.append(Row(file, start_line, tuple(cell.strip() for cell in record), positions))
    except csv.Error as error:
        problems.append(
            RosterProblem(file, reader.line_num, "", f"this is not valid CSV ({error}).")
        )
        return None
    if header is None:
        problems.append(RosterProblem(file, 1, "", "the file is empty: it has no header row."))
        return None
    missing = [column for column in REQUIRED_COLUMNS[file] if column not in column_of]
    if missing:
        for column in missing:
            problems.append(
                RosterProblem(
                    file,
                    header_line,
                    column,
                    "this required column is missing from the header (it has: "
                    f"{', '.join(header)}).",
                )
            )
        return None
    return Table(file, rows, [column for column in column_of if column])


def _has_nul(
    file: str,
    line: int,
    record: list[str],
    column_of: list[str | None],
    problems: list[RosterProblem],
) -> bool:
    """Whether a value of the row holds a NUL character, which no database column can store."""
    found = False
    for column, cell in zip(column_of, record, strict=True):
        if column is not None and "\x00" in cell:
            problems.append(
                RosterProblem(
                    file,
                    line,
                    column,
                    "this value holds a NUL character (byte 0x00), which cannot be stored; "
                    "remove it in the export and import again.",
                )
            )
            found = True
    return found


def _header_columns(
    file: str,
    header: list[str],
    header_line: int,
    known: dict[str, str],
    problems: list[RosterProblem],
) -> list[str | None]:
    """The known column of each header cell (None: an extension or unknown column, ignored)."""
    columns: list[str | None] = []
    seen: set[str] = set()
    for name in header:
        column = known.get(name.lower())
        if column is not None and column in seen:
            problems.append(
                RosterProblem(file, header_line, column, "this column appears twice in the header.")
            )
            column = None
        if column is not None:
            seen.add(column)
        columns.append(column)
    return columns


def read_manifest(files: dict[str, RosterFile], problems: list[RosterProblem]) -> dict[str, str]:
    """Check manifest.csv's OneRoster version and return each file's mode (bulk, delta or
    absent). A required file without a ``file.<name>`` row is a problem; an optional one is bulk
    when the export has it, else absent."""
    modes: dict[str, str] = {}
    if MANIFEST not in files:
        problems.append(RosterProblem(MANIFEST, None, "", "the export has no manifest.csv."))
        return modes
    table = read_table(MANIFEST, files[MANIFEST], problems)
    if table is None:
        return modes
    properties: dict[str, Row] = {}
    for row in table.rows:
        properties[row["propertyName"]] = row
    version = properties.get("oneroster.version")
    if version is not None and version["value"] not in VERSIONS:
        problems.append(
            RosterProblem(
                version.file,
                version.line,
                "value",
                f"oneroster.version is '{version['value']}'; this import reads OneRoster 1.1.",
            )
        )
    for file in (*REQUIRED_FILES, *OPTIONAL_FILES):
        key = f"file.{file.removesuffix('.csv')}"
        entry = properties.get(key)
        if entry is None:
            if file in REQUIRED_FILES:
                problems.append(
                    RosterProblem(
                        MANIFEST,
                        None,
                        "propertyName",
                        f"there is no {key} row; give it the value bulk, delta or absent.",
                    )
                )
            else:
                modes[file] = "bulk" if file in files else "absent"
            continue
        mode = entry["value"].lower()
        if mode not in FILE_MODES:
            problems.append(
                RosterProblem(
                    entry.file,
                    entry.line,
                    "value",
                    f"{key} is '{entry['value']}'; use bulk, delta or absent.",
                )
            )
            continue
        modes[file] = mode
    return modes


def read_tables(
    files: dict[str, RosterFile],
    modes: dict[str, str],
    problems: list[RosterProblem],
    warnings: list[RosterProblem],
) -> dict[str, Table]:
    """The tables of the files the manifest names as bulk or delta; a file it names absent is
    ignored (with a warning), one it names but the export lacks is a problem."""
    tables: dict[str, Table] = {}
    for file in (*REQUIRED_FILES, *OPTIONAL_FILES):
        if modes.get(file) in ("bulk", "delta"):
            if file not in files:
                problems.append(
                    RosterProblem(
                        file,
                        None,
                        "",
                        f"manifest.csv says this file is {modes[file]}, but it is missing.",
                    )
                )
                continue
            table = read_table(file, files[file], problems)
            if table is not None:
                tables[file] = table
        elif file in files:
            warnings.append(
                RosterProblem(file, None, "", "ignored: manifest.csv says this file is absent.")
            )
    return tables
