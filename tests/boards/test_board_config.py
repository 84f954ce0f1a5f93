"""Configuring a board: the column mapper's rules, enforced on the server (page and API), the WIP
limit, the read-only mirror admin and the offline API docs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from boards.models import Board, BoardStatus, OpportunityStage, ServiceBoard, Ticket
from boards.services.cards import board_layout
from boards.services.config import board_column_problems, board_columns_set, board_create
from tests.boards.conftest import seed_tickets


def _edit_form(board: Board, columns: list[dict], **settings) -> dict:
    form = {"name": board.name, "show_unassigned": "on", "auto_rank": "", "col-INITIAL_FORMS": "0"}
    form.update(settings)
    form["col-TOTAL_FORMS"] = str(len(columns))
    for i, column in enumerate(columns):
        form[f"col-{i}-name"] = column["name"]
        form[f"col-{i}-psa_ids"] = [str(x) for x in column.get("psa_ids", [])]
        form[f"col-{i}-wip_limit"] = column.get("wip_limit", "")
        form[f"col-{i}-ORDER"] = str(column.get("order", i + 1))
        if column.get("delete"):
            form[f"col-{i}-DELETE"] = "on"
    return form


def _problems(board: Board, columns, psa_board_ids=(1,)) -> list[str]:
    return board_column_problems(
        connection_id=board.connection_id,
        kind=board.kind,
        column_source=board.column_source,
        psa_board_ids=list(psa_board_ids),
        columns=columns,
    )


def test_it_saves_columns_in_the_dragged_order_with_their_wip_limits(tenant, client):
    board = tenant["board"]
    form = _edit_form(
        board,
        [
            {"name": "Done", "psa_ids": [13], "order": 3},
            {"name": "Open", "psa_ids": [10, 11], "wip_limit": "5", "order": 1},
            {"name": "Gone", "psa_ids": [12], "order": 2, "delete": True},
            {"name": "Waiting", "psa_ids": [12], "order": 2},
        ],
        psa_board_ids=["1"],
    )
    response = client.post(f"/boards/{board.id}/edit/", form)
    assert response.status_code == 302
    saved = [(c.name, c.psa_ids, c.wip_limit) for c in board.columns.all()]
    assert saved == [("Open", [10, 11], 5), ("Waiting", [12], None), ("Done", [13], None)]


def test_it_refuses_statuses_of_psa_boards_the_board_does_not_show(tenant, client):
    seed_tickets(tenant["connection"], count=1, board_psa_id=2, first_id=200)
    board = tenant["board"]
    form = _edit_form(board, [{"name": "Open", "psa_ids": [10, 20]}], psa_board_ids=["1"])
    response = client.post(f"/boards/{board.id}/edit/", form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The board was not saved" in html
    assert "Column “Open” uses “Board 2: New”, which belong to PSA boards this board does not show" in html
    assert [c.name for c in board.columns.all()] == ["New", "Doing", "Waiting", "Closed"]  # unchanged


def test_it_explains_every_column_mistake_in_plain_words(tenant):
    board = tenant["board"]
    problems = _problems(board, [("Open", [10, 11]), ("open", [11]), ("Empty", [])])
    assert "Two columns are called “open”; give each column its own name." in problems
    assert "“Board 1: Doing” is in both “Open” and “open”; a status can be in one column only." in problems
    assert "Column “Empty” has no status: pick at least one, or remove the column." in problems
    assert _problems(board, []) == ["Add at least one column: a board without columns shows no cards."]
    assert _problems(board, [("Open", [10]), ("Done", [13])]) == []


def test_it_asks_for_a_column_name_and_a_positive_wip_limit(tenant, client):
    board = tenant["board"]
    form = _edit_form(
        board, [{"name": "", "psa_ids": [10]}, {"name": "Doing", "psa_ids": [11], "wip_limit": "0"}]
    )
    html = client.post(f"/boards/{board.id}/edit/", form).content.decode()
    assert "Give every column a name." in html
    assert "A WIP limit is 1 or more; leave it empty for no limit." in html


def test_it_offers_only_statuses_of_the_boards_kind_tagged_with_their_psa_board(tenant, client):
    connection = tenant["connection"]
    seed_tickets(connection, count=1, board_psa_id=2, first_id=200)
    ServiceBoard.objects.create(connection=connection, psa_id=9, name="Projects", project_flag=True)
    BoardStatus.objects.create(connection=connection, psa_id=90, name="Planning", board_psa_id=9)
    html = client.get(f"/boards/{tenant['board'].id}/edit/").content.decode()
    assert '<option value="20" data-board="2">Board 2: New</option>' in html
    assert "Projects: Planning" not in html  # a project board's status on a service board: never


def test_it_refuses_stage_columns_on_a_service_board_everywhere(tenant, client):
    connection = tenant["connection"]
    response = client.post(
        "/boards/new/",
        {"name": "Staged", "connection": connection.id, "kind": "service", "column_source": "stage"},
    )
    assert response.status_code == 200
    assert "Only opportunity boards can have stage columns" in response.content.decode()
    api = client.post(
        "/api/boards/",
        {"connection": connection.id, "name": "Staged", "kind": "service", "column_source": "stage"},
        content_type="application/json",
    )
    assert api.status_code == 400 and "Only opportunity boards" in api.json()["column_source"][0]
    patch = client.patch(
        f"/api/boards/{tenant['board'].id}/", {"column_source": "stage"}, content_type="application/json"
    )
    assert patch.status_code == 400
    with pytest.raises(ValidationError):
        board_create(connection_id=connection.id, name="Staged", column_source="stage")
    assert not Board.objects.filter(name="Staged").exists()


def test_it_refuses_a_column_layout_from_the_api_with_the_same_words(tenant, client):
    seed_tickets(tenant["connection"], count=1, board_psa_id=2, first_id=200)
    url = f"/api/boards/{tenant['board'].id}/"
    response = client.patch(
        url, {"columns": [{"name": "Mixed", "psa_ids": [10, 20]}]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "PSA boards this board does not show" in response.json()["columns"][0]
    ok = client.patch(
        url,
        {"columns": [{"name": "Open", "psa_ids": [10, 11], "wip_limit": 2}]},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["columns"][0]["wip_limit"] == 2


def test_it_warns_in_the_column_header_when_the_wip_limit_is_exceeded(tenant, client):
    board = tenant["board"]
    board_columns_set(board=board, columns=[("New", [10], 3), ("Rest", [11, 12, 13], 3)])
    layout = board_layout(board=board)
    assert [(c.name, len(c.cards), c.over_limit) for c in layout] == [("New", 6, True), ("Rest", 0, False)]
    html = client.get(f"/boards/{board.id}/").content.decode()
    assert "Over the WIP limit: 6 cards, limit 3" in html
    assert html.count("wip-warning") == 1


def test_it_marks_the_columns_whose_statuses_all_close_a_card(tenant, client):
    board = tenant["board"]
    board_columns_set(board=board, columns=[("Open", [10, 11]), ("Done", [13]), ("Mixed", [12, 23])])
    seed_tickets(tenant["connection"], count=1, board_psa_id=2, first_id=200)  # 23: Board 2's Closed
    assert [(c.name, c.closes) for c in board_layout(board=board)] == [
        ("Open", False),
        ("Done", True),
        ("Mixed", False),
    ]
    assert client.get(f"/boards/{board.id}/").content.decode().count('data-closes="1"') == 1


def test_it_keeps_mirrored_psa_records_read_only_in_the_admin(tenant, admin_client):
    ticket = Ticket.objects.get(connection=tenant["connection"], psa_id=100)
    page = admin_client.get(f"/admin/boards/ticket/{ticket.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "Delete" not in html
    assert admin_client.post(f"/admin/boards/ticket/{ticket.pk}/change/", {"summary": "x"}).status_code == 403
    assert admin_client.get("/admin/boards/ticket/add/").status_code == 403
    assert admin_client.post(f"/admin/boards/ticket/{ticket.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).summary == "Ticket 100"
    assert admin_client.get(f"/admin/boards/board/{tenant['board'].pk}/change/").status_code == 200  # local


def test_it_puts_the_favicon_on_the_admin_too(db, admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "boards/favicon.svg" in html and "TopLeft administration" in html


def test_it_maps_an_opportunity_board_by_stage(tenant, client):
    connection = tenant["connection"]
    OpportunityStage.objects.create(connection=connection, psa_id=1, name="Qualify", sort_order=1)
    OpportunityStage.objects.create(connection=connection, psa_id=2, name="Propose", sort_order=2)
    board = board_create(
        connection_id=connection.id, name="Pipeline", kind="opportunity", column_source="stage"
    )
    assert [(c.name, c.psa_ids) for c in board.columns.all()] == [("Qualify", [1]), ("Propose", [2])]
    html = client.get(f"/boards/{board.id}/edit/").content.decode()
    assert "Stages" in html and "PSA boards" not in html
    form = _edit_form(board, [{"name": "Early", "psa_ids": [1, 2]}])
    assert client.post(f"/boards/{board.id}/edit/", form).status_code == 302
    assert [(c.name, c.psa_ids) for c in board.columns.all()] == [("Early", [1, 2])]


def test_it_serves_the_api_docs_from_local_static_files(tenant, client):
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


def test_global_statuses_are_offered_by_their_own_name(db):
    # A PSA whose statuses are one global list (Autotask) mirrors them without a PSA board.
    from boards.models import BoardStatus, RecordKind, ServiceBoard
    from boards.services.config import board_statuses_offered, status_label
    from tests.support.connections import make_connection

    connection = make_connection("global-statuses")
    ServiceBoard.objects.create(connection=connection, psa_id=1, name="Level I Support")
    BoardStatus.objects.create(connection=connection, psa_id=5, name="Complete", board_psa_id=None)
    BoardStatus.objects.create(connection=connection, psa_id=6, name="New", board_psa_id=1)
    offered = board_statuses_offered(
        connection_id=connection.pk, kind=RecordKind.SERVICE, column_source="status", psa_board_ids=[]
    )
    assert offered[6] == ("Level I Support: New", 1)
    assert 5 not in offered  # ConnectWise's rule: a status belongs to a chosen board's statuses
    assert status_label("Complete", None) == "Complete"
