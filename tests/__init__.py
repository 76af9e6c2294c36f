import pytest

# Helper modules whose asserts should explain themselves like a test's.
pytest.register_assert_rewrite("tests.reports.oracle")
