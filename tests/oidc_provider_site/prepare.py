"""Prepare the provider's database: tables, a signing key, one client, its people.

python -m tests.oidc_provider_site.prepare CLIENT_ID SECRET REDIRECT_URI
    [USERNAME:PASSWORD:EMAIL ...]
"""

import os
import sys

import django


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider_site.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType

    client_id, secret, redirect_uri, *people = argv
    call_command("migrate", verbosity=0)
    call_command("creatersakey")
    client = Client.objects.create(
        name="Thinslice",
        client_type="confidential",
        client_id=client_id,
        client_secret=secret,
        redirect_uris=[redirect_uri],
        require_consent=False,
        reuse_consent=True,
        _scope="openid email profile",
    )
    client.response_types.add(ResponseType.objects.get(value="code"))
    for person in people:
        username, password, email = person.split(":", 2)
        User.objects.create_user(
            username=username, password=password, email=email, last_name=username.title()
        )


if __name__ == "__main__":
    main(sys.argv[1:])
