"""/boards/: the kanban pages (the API lives under /api/, see boards/api/urls.py)."""

from django.urls import path

from boards.views import boards, cards, filters

app_name = "boards"

urlpatterns = [
    path("", boards.board_list, name="list"),
    path("new/", boards.board_new, name="new"),
    path("switcher/", boards.board_switcher, name="switcher"),
    path("<int:board_id>/", boards.board_page, name="board"),
    path("<int:board_id>/edit/", boards.board_edit, name="edit"),
    path("<int:board_id>/columns/", boards.board_columns, name="columns"),
    path("<int:board_id>/pick/<slug:kind>/", filters.board_pick, name="pick"),
    path("<int:board_id>/cards/<int:psa_id>/", cards.card_dialog, name="card"),
    path("<int:board_id>/cards/<int:psa_id>/thread/", cards.card_thread_fragment, name="card-thread"),
    path("<int:board_id>/cards/<int:psa_id>/<slug:action>/", cards.card_action, name="card-action"),
]
