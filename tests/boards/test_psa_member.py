"""Work is recorded as the person who did it: each user's PSA member per connection (linked by
e-mail or chosen by hand), notes and time entries written as that member, and refused without one."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from boards.models import Member, Membership, ServiceNote, Ticket
from boards.services.psa_member import user_member_get
from sync.models import OutboxEntry
from tests.boards.conftest import link_member, logged_in, make_user


def add_member(connection, psa_id: int, identifier: str, email: str = "", **fields) -> Member:
    return Member.objects.create(
        connection=connection,
        psa_id=psa_id,
        identifier=identifier,
        first_name=identifier.title(),
        email=email,
        **fields,
    )


def membership_of(tenant) -> Membership:
    return Membership.objects.get(user=tenant["user"], connection=tenant["connection"])


def sign_in(user, password: str) -> Client:
    """Through the login form, as a person does (fires `user_logged_in`)."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302
    return client


def test_it_links_the_member_with_the_users_email_on_sign_in_ignoring_case(tenant):
    add_member(tenant["connection"], 3, "zed", "zed@acme.example")
    add_member(tenant["connection"], 4, "ann", "Ann.Smith@Acme.example")
    tenant["user"].email = "ann.smith@acme.EXAMPLE"
    tenant["user"].save()
    sign_in(tenant["user"], "pw-ann")
    membership = membership_of(tenant)
    assert (membership.member_psa_id, membership.member_identifier) == (4, "ann")


@pytest.mark.parametrize(
    "members",
    [
        [(4, "ann", "ann@acme.example", False), (5, "ann2", "ANN@acme.example", False)],  # ambiguous
        [(4, "ann", "ann@acme.example", True)],  # inactive
        [(4, "ann", "someone@acme.example", False)],  # no match
    ],
)
def test_it_leaves_the_user_unlinked_when_the_email_does_not_name_one_active_member(tenant, members):
    for psa_id, identifier, email, inactive in members:
        add_member(tenant["connection"], psa_id, identifier, email, inactive=inactive)
    tenant["user"].email = "ann@acme.example"
    tenant["user"].save()
    sign_in(tenant["user"], "pw-ann")
    assert membership_of(tenant).member_psa_id is None


def test_it_links_at_first_use_when_the_member_arrived_after_sign_in(tenant):
    tenant["user"].email = "ann@acme.example"
    tenant["user"].save()
    assert user_member_get(user=tenant["user"], connection_id=tenant["connection"].pk) is None
    add_member(tenant["connection"], 4, "ann", "ann@acme.example")  # a members sync brought it
    assert user_member_get(user=tenant["user"], connection_id=tenant["connection"].pk).identifier == "ann"
    assert membership_of(tenant).member_identifier == "ann"


def test_it_never_replaces_a_member_chosen_by_hand_with_the_email_match(tenant):
    link_member(tenant, psa_id=7, identifier="annie")
    add_member(tenant["connection"], 4, "ann", "ann@acme.example")
    tenant["user"].email = "ann@acme.example"
    tenant["user"].save()
    sign_in(tenant["user"], "pw-ann")
    assert membership_of(tenant).member_psa_id == 7


def test_it_lets_the_user_choose_and_clear_their_own_member(tenant, client):
    add_member(tenant["connection"], 4, "ann")
    page = client.get("/boards/me/member/").content.decode()
    assert "My PSA member" in page and "Ann (ann)" in page
    response = client.post("/boards/me/member/", {"membership": membership_of(tenant).pk, "member": "4"})
    assert response.status_code == 302
    assert membership_of(tenant).member_identifier == "ann"
    client.post("/boards/me/member/", {"membership": membership_of(tenant).pk, "member": ""})
    assert (membership_of(tenant).member_psa_id, membership_of(tenant).member_identifier) == (None, "")


def test_it_refuses_a_member_of_another_connection(tenant, other_tenant, client):
    add_member(other_tenant["connection"], 4, "gus")
    response = client.post(
        "/boards/me/member/", {"membership": membership_of(tenant).pk, "member": "4"}, follow=True
    )
    assert "not an active member of this connection" in response.content.decode()
    assert membership_of(tenant).member_psa_id is None


def test_it_lets_a_connection_admin_choose_another_users_member_and_nobody_else(tenant, other_tenant):
    add_member(tenant["connection"], 4, "ann")
    boss = make_user("boss", tenant["connection"], role="admin")
    page = logged_in(boss).get("/boards/me/member/").content.decode()
    assert "PSA member of ann on acme" in page
    logged_in(boss).post("/boards/me/member/", {"membership": membership_of(tenant).pk, "member": "4"})
    assert membership_of(tenant).member_psa_id == 4

    colleague = make_user("col", tenant["connection"])
    gus = logged_in(other_tenant["user"])
    for outsider in (logged_in(colleague), gus):
        response = outsider.post("/boards/me/member/", {"membership": membership_of(tenant).pk, "member": ""})
        assert response.status_code == 404
    assert membership_of(tenant).member_psa_id == 4


def test_it_lets_a_site_admin_choose_the_member_in_the_membership_admin(tenant):
    add_member(tenant["connection"], 4, "ann")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    membership = membership_of(tenant)
    url = f"/admin/boards/membership/{membership.pk}/change/"
    assert "Ann (ann)" in logged_in(admin).get(url).content.decode()
    form = {"user": tenant["user"].pk, "connection": tenant["connection"].pk, "role": "member", "member": "4"}
    assert logged_in(admin).post(url, form).status_code == 302
    assert membership_of(tenant).member_identifier == "ann"


def test_it_tells_an_unlinked_user_and_refuses_their_notes_and_time(tenant, client):
    add_member(tenant["connection"], 5, "bob")
    board = tenant["board"].id
    dialog = client.get(f"/boards/{board}/cards/100/").content.decode()
    assert "not linked to a PSA member" in dialog and "disabled>Add note" in dialog
    for action, form in (("note", {"text": "Called"}), ("time", {"member": "5", "minutes": "15"})):
        html = client.post(f"/boards/{board}/cards/100/{action}/", form).content.decode()
        assert "cannot be recorded as you" in html
    assert not OutboxEntry.objects.exists() and not ServiceNote.objects.exists()


def test_it_writes_notes_as_the_users_member_and_shows_them_as_its_author(tenant, client):
    link_member(tenant, psa_id=4, identifier="ann")
    board = tenant["board"].id
    html = client.post(f"/boards/{board}/cards/100/note/", {"text": "Called the customer"}).content.decode()
    assert OutboxEntry.objects.get().payload["member_id"] == 4
    assert ServiceNote.objects.get().author == "ann"
    assert "ann · " in html


def test_it_logs_time_as_the_user_unless_another_member_is_chosen(tenant, client):
    link_member(tenant, psa_id=4, identifier="ann")
    add_member(tenant["connection"], 2, "abe")  # first alphabetically: never a silent default
    board = tenant["board"].id
    dialog = client.get(f"/boards/{board}/cards/100/").content.decode()
    assert '<option value="4" selected>Ann (me)</option>' in dialog
    client.post(f"/boards/{board}/cards/100/time/", {"minutes": "15"})
    client.post(f"/boards/{board}/cards/100/time/", {"member": "2", "minutes": "15"})
    assert [e.payload["member_id"] for e in OutboxEntry.objects.order_by("id")] == [4, 2]


def test_it_offers_my_cards_and_marks_the_cards_i_am_assigned_to_with_my_initials(tenant, client):
    link_member(tenant, psa_id=4, identifier="alice")  # the seeded tickets 101, 103, 105 are alice's
    tenant["user"].first_name, tenant["user"].last_name = "Ann", "Lee"
    tenant["user"].save()
    Ticket.objects.filter(psa_id=102).update(owner_identifier="alice")  # owning is not being assigned
    board = tenant["board"].id
    page = client.get(f"/boards/{board}/").content.decode()
    assert 'href="?member=alice"' in page and ">My cards</a>" in page
    assert marked_cards(page) == {101, 103, 105}
    assert '<span class="my-initials" title="Assigned to you">AL</span>' in page
    mine = client.get(f"/boards/{board}/?member=alice").content.decode()
    assert 'aria-current="true"' in mine and card_ids(mine) == {101, 103, 105}
    fragment = client.get(f"/boards/{board}/columns/?member=alice").content.decode()
    assert marked_cards(fragment) == {101, 103, 105}


def test_it_sends_an_unlinked_user_to_choose_their_member_instead_of_my_cards(tenant, client):
    page = client.get(f"/boards/{tenant['board'].id}/").content.decode()
    assert "My cards: choose your PSA member" in page and 'href="/boards/me/member/"' in page
    assert not marked_cards(page)


def card_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<li class="card[^"]*" data-psa-id="(\d+)"', html)}


def marked_cards(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<li class="card[^"]* mine[^"]*" data-psa-id="(\d+)"', html)}


def test_it_uses_the_psas_own_word_for_a_member(tenant, client):
    tenant["connection"].provider = "autotask"
    tenant["connection"].save(update_fields=["provider"])
    page = client.get("/boards/me/member/").content.decode()
    assert "PSA resource of ann on acme" in page and "(no resource linked)" in page
