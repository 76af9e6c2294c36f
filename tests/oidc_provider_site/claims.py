"""The claims the provider vouches for: a verified email, and the roster's id in `sourced_id`."""


def userinfo(claims, user):
    claims["email"] = user.email
    claims["email_verified"] = True
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    claims["sourced_id"] = f"roster-{user.username}"
    return claims
