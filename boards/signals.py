"""Sign-in links the user to their PSA member by e-mail where no link exists yet."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from boards.services.psa_member import user_memberships_link_by_email


@receiver(user_logged_in, dispatch_uid="boards.link_psa_member_on_login")
def link_psa_member_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    user_memberships_link_by_email(user=user)
