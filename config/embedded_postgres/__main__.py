"""Operate the embedded PostgreSQL by hand.

python -m config.embedded_postgres status   # where its data is and whether it runs
python -m config.embedded_postgres reset    # stop it and delete its data (a fresh start)
"""

from __future__ import annotations

import shutil
import sys

from config.embedded_postgres import data_dir, stop


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    pgdata = data_dir()
    if command == "status":
        state = "running" if (pgdata / "postmaster.pid").exists() else "stopped"
        print(f"Embedded PostgreSQL data: {pgdata} ({state if pgdata.exists() else 'none yet'})")
        return 0
    if command == "reset":
        stop(pgdata)
        if pgdata.exists():
            shutil.rmtree(pgdata)
        print(f"Deleted {pgdata}: the next start makes a new, empty database.")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
