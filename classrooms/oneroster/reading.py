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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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
# Unpacked, the CSV files of one export may not exceed this (a guard against zip bombs).
MAX_UNPACKED_BYTES = 500_000_000


@dataclass
class RosterSource:
    """The files of one OneRoster export (by their OneRoster name) and problems reading them."""

    label: str
    files: dict[str, bytes] = field(default_factory=dict)
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
        try:
            source.files[name] = archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            source.problems.append(
                RosterProblem(name, None, "", f"cannot be unpacked from the zip ({error}).")
            )
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
        data = child.read_bytes()
        digest.update(name.encode() + b"\0" + data)
        source.files[name] = data
    source.sha256 = digest.hexdigest()
    return source


@dataclass
class Row:
    """One data row of a CSV file: the line it starts on and its values by column."""

    file: str
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class Table:
    file: str
    rows: list[Row]
    header_columns: list[str]


def _decode(file: str, data: bytes) -> tuple[str | None, RosterProblem | None]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, RosterProblem(
            file,
            1,
            "",
            'the file is UTF-16 text; save it as UTF-8 ("CSV UTF-8" in Excel) and import again.',
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        return None, RosterProblem(
            file,
            line,
            "",
            f"the file is not UTF-8 text (byte 0x{byte:02X} cannot be read); save it as UTF-8 "
            '("CSV UTF-8" in Excel) and import again.',
        )


def read_table(file: str, data: bytes, problems: list[RosterProblem]) -> Table | None:
    """Parse one CSV file; header problems make it unreadable (None), row problems are listed."""
    text, problem = _decode(file, data)
    if problem is not None or text is None:
        problems.append(problem or RosterProblem(file, None, "", "cannot be read."))
        return None
    known = {column.lower(): column for column in COLUMNS[file]}
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 1
    rows: list[Row] = []
    column_of: list[str | None] = []
    try:
        while True:
            start_line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff") for cell in record]
                header_line = start_line
                column_of = _header_columns(file, header, header_line, known, problems)
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
            values = {
                column: cell.strip()
                for column, cell in zip(column_of, record, strict=True)
                if column is not None
            }
            rows.append(Row(file, start_line, values))
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


def read_manifest(files: dict[str, bytes], problems: list[RosterProblem]) -> dict[str, str]:
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
    files: dict[str, bytes],
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
