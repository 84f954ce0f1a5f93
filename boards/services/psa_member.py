"""Which PSA member a user works as, per connection: notes and time entries are written as them.

The link lives on the Membership. It is made by e-mail (the user's address matches one active
member's, ignoring case) when the user signs in or when a card action needs it and none is set
yet (a members sync may have brought the member since), and can be set by hand by the user or a
connection admin. A hand-made link is never replaced by the e-mail match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boards.models import Member, Membership


class NoLinkedMember(ValueError):
    """The user has no PSA member on this connection; writing as anyone else would misattribute."""


def _member_by_email(*, connection_id: int, email: str) -> Member | None:
    if not email.strip():
        return None
    matches = list(
        Member.objects.filter(connection_id=connection_id, email__iexact=email.strip(), inactive=False)[:2]
    )
    # Two members sharing an address is ambiguous: leave it to the user to choose.
    return matches[0] if len(matches) == 1 else None


def membership_member_assign(*, membership: Membership, member: Member | None) -> None:
    """Point the membership at `member` (or at nobody) without saving it."""
    membership.member_psa_id = member.psa_id if member else None
    membership.member_identifier = member.identifier if member else ""


def membership_member_set(*, membership: Membership, member: Member | None) -> None:
    membership_member_assign(membership=membership, member=member)
    membership.save(update_fields=["member_psa_id", "member_identifier"])


def membership_link_by_email(*, membership: Membership) -> bool:
    """Link an unlinked membership to the member with the user's e-mail; True if it did."""
    if membership.member_psa_id is not None:
        return False
    member = _member_by_email(connection_id=membership.connection_id, email=membership.user.email or "")
    if member is None:
        return False
    membership_member_set(membership=membership, member=member)
    return True


def user_memberships_link_by_email(*, user: Any) -> int:
    linked = 0
    for membership in Membership.objects.filter(user=user, member_psa_id__isnull=True).select_related("user"):
        linked += membership_link_by_email(membership=membership)
    return linked


def user_member_get(*, user: Any, connection_id: int) -> Member | None:
    """The member `user` works as on the connection (linking by e-mail first if unlinked)."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.filter(user=user, connection_id=connection_id).select_related("user").first()
    )
    if membership is None:
        return None
    membership_link_by_email(membership=membership)
    if membership.member_psa_id is None:
        return None
    return Member.objects.filter(connection_id=connection_id, psa_id=membership.member_psa_id).first()


def user_member_require(*, user: Any, connection_id: int) -> Member:
    member = user_member_get(user=user, connection_id=connection_id)
    if member is None:
        raise NoLinkedMember(
            "Your account is not linked to a PSA member on this connection, so this cannot be "
            "recorded as you. Choose your member under “My PSA member” or ask a connection admin."
        )
    return member


def membership_member_choose(*, actor: Any, membership_id: int, member_psa_id: int | None) -> Membership:
    """Set (or clear, with None) a membership's member: its own user or a connection admin may.

    Raises Membership.DoesNotExist for a membership the actor may not change (shown as a 404),
    ValueError for a member that is not an active member of that connection.
    """
    membership = Membership.objects.get(pk=membership_id)
    if (
        membership.user_id != actor.pk
        and not Membership.objects.filter(
            user=actor, connection_id=membership.connection_id, role=Membership.Role.ADMIN
        ).exists()
    ):
        raise Membership.DoesNotExist
    member = None
    if member_psa_id is not None:
        member = Member.objects.filter(
            connection_id=membership.connection_id, psa_id=member_psa_id, inactive=False
        ).first()
        if member is None:
            raise ValueError("That member is not an active member of this connection.")
    membership_member_set(membership=membership, member=member)
    return membership


def psa_member_rows(*, user: Any) -> list[dict]:
    """The memberships `user` may set the member of (their own, and every one of a connection
    they administer), each with the connection's active members to choose from."""
    user_memberships_link_by_email(user=user)
    own = list(Membership.objects.filter(user=user).select_related("connection", "user"))
    administered = [m.connection_id for m in own if m.role == Membership.Role.ADMIN]
    others = (
        Membership.objects.filter(connection_id__in=administered)
        .exclude(user=user)
        .select_related("connection", "user")
        .order_by("connection__name", "user__username")
    )
    rows = [*own, *others]
    members: dict[int, list[Member]] = {m.connection_id: [] for m in rows}
    for member in Member.objects.filter(connection_id__in=members, inactive=False):
        members[member.connection_id].append(member)
    return [
        {
            "membership": membership,
            "mine": membership.user_id == user.pk,
            "members": members[membership.connection_id],
        }
        for membership in rows
    ]


@dataclass(frozen=True)
class MyMember:
    """The user's PSA member as the board shows it: "My cards" filters by the identifier, and
    the initials mark the cards the user is assigned to."""

    identifier: str
    initials: str


def _initials(*names: str) -> str:
    return "".join(name.strip()[0] for name in names if name.strip()).upper()[:3]


def user_my_member(*, user: Any, connection_id: int) -> MyMember | None:
    member = user_member_get(user=user, connection_id=connection_id)
    if member is None:
        return None
    initials = (
        _initials(getattr(user, "first_name", ""), getattr(user, "last_name", ""))
        or _initials(member.first_name, member.last_name)
        or member.identifier[:2].upper()
    )
    return MyMember(identifier=member.identifier, initials=initials)
