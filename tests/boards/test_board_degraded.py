"""Boards with Redis unreachable: pages keep serving from PostgreSQL; live updates pause and
resume when Redis returns."""

import pytest

from boards.live import mirror_changed
from boards.models import Ticket
from tests.support.outages import REDIS_DOWN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def test_it_serves_the_board_and_its_poll_while_redis_is_down(tenant, client):
    board = tenant["board"]
    with REDIS_DOWN:
        page = client.get(f"/boards/{board.id}/")
        assert page.status_code == 200 and "Ticket 104" in page.content.decode()
        first = client.get(f"/boards/{board.id}/columns/")
        assert first.status_code == 200 and "Ticket 104" in first.content.decode()
        again = client.get(f"/boards/{board.id}/columns/", headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304  # no counter to compare with: nothing is redrawn
        assert client.get(f"/api/boards/{board.id}/cards/").status_code == 200
    Ticket.objects.filter(psa_id=104).update(summary="Changed while Redis was down")
    mirror_changed(connection_id=tenant["connection"].id)
    back = client.get(f"/boards/{board.id}/columns/", headers={"If-None-Match": first["ETag"]})
    assert back.status_code == 200 and "Changed while Redis was down" in back.content.decode()
