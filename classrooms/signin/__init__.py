"""Signing in, for every staff member on their first day.

- ``forms``: the sign-in form that resolves the district (classrooms/authentication.py), the
  "forgot password" form that also reaches rostered staff who never had a password;
- ``invitations``: a district admin invites rostered staff (one person, a school, everyone
  without a sign-in yet); each gets a one-time link to set a password (Django's token
  machinery);
- ``views`` and ``urls``: the pages, on Django's own auth views with the product's templates.
"""
