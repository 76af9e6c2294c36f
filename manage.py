#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    from config import embedded_postgres

    try:
        if embedded_postgres.is_used():
            embedded_postgres.check_data_dir_version(embedded_postgres.data_dir())
        execute_from_command_line(sys.argv)
    except embedded_postgres.DataFolderVersionMismatch as mismatch:
        sys.exit(f"Thinslice cannot start: {mismatch}")


if __name__ == "__main__":
    main()
