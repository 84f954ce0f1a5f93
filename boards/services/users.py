"""Users and their memberships in connections (tenants)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from boards.models import Membership
from sync.models import Connection


class UnknownConnection(ValueError):
    pass


@transaction.atomic
def user_add(*, username: str, password: str, connection_name: str, role: str = Membership.Role.MEMBER):
    """Create or update a user (password set every time) and their membership of one connection."""
    connection = Connection.objects.filter(name=connection_name).first()
    if connection is None:
        raise UnknownConnection(f"no connection named {connection_name!r}")
    if role not in Membership.Role.values:
        raise ValueError(f"role must be one of {', '.join(Membership.Role.values)}")
    user, created = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, connection=connection, defaults={"role": role})
    return user, created
