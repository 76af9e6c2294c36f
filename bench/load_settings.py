"""Settings of the load benchmark's servers: production's, with one difference. Static files are
collected with their hashed names (as the pages ask for them) into the run's own directory,
without WhiteNoise's pre-compression, which costs minutes of CPU on every run; the simulated
users request pages and the API, never a static file.
"""

from config.env import env_str
from config.settings.production import *  # noqa: F403
from config.settings.production import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
STATIC_ROOT = env_str("BENCH_STATIC_ROOT")
