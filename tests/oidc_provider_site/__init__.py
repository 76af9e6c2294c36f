"""A real OpenID Connect provider for the single sign-on tests: django-oidc-provider in a Django
site of its own, run as its own process (gunicorn) on loopback, on a PostgreSQL database of its
own. tests/oidc_provider.py starts it; nothing of Thinslice is imported here."""
