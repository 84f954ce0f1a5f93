"""Users and their memberships in connections (tenants)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from boards.models import Membership
from sync.models import Connection


class UnknownConnection(ValueError):
    pass


class InvalidCredentials(ValueError):
    pass


def _check_credentials(username: str, password: str) -> None:
    if not username or not password:
        raise InvalidCredentials("username and password must not be empty")
    try:
        get_user_model().username_validator(username)
    except ValidationError as exc:
        raise InvalidCredentials(f"username {username!r}: {' '.join(exc.messages)}") from None


@transaction.atomic
def user_add(*, username: str, password: str, connection_name: str, role: str = Membership.Role.MEMBER):
    """Create or update a user (password set every time) and their membership of one connection."""
    connection = Connection.objects.filter(name=connection_name).first()
    if connection is None:
        raise UnknownConnection(f"no connection named {connection_name!r}")
    if role not in Membership.Role.values:
        raise ValueError(f"role must be one of {', '.join(Membership.Role.values)}")
    _check_credentials(username, password)
    user, created = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, connection=connection, defaults={"role": role})
    return user, created
