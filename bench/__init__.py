"""HTTP benchmarks against a production-like server (gunicorn + PostgreSQL); see bench/README.md."""
