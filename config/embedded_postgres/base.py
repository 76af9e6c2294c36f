"""Django's PostgreSQL backend, starting the embedded server first (config/embedded_postgres).

Everything else is Django's own backend: the same SQL and the same features as the server
production uses.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from config import embedded_postgres


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        server = embedded_postgres.running_server()
        params["host"] = server.socket_dir
        params["port"] = server.port
        if params.get("dbname"):
            embedded_postgres.ensure_database(params["dbname"])
        return params
