"""“My PSA member”: who the user works as on each connection (and, for a connection admin, who
every user of that connection works as)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from boards.models import Membership
from boards.services.cards import int_or_none
from boards.services.psa_member import membership_member_choose, psa_member_rows


@login_required
def psa_member_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _choose(request)
    return render(request, "boards/psa_member.html", {"rows": psa_member_rows(user=request.user)})


def _choose(request: HttpRequest) -> HttpResponse:
    membership_id = int_or_none(request.POST.get("membership"))
    if membership_id is None:
        raise Http404("No such membership")
    try:
        membership = membership_member_choose(
            actor=request.user,
            membership_id=membership_id,
            member_psa_id=int_or_none(request.POST.get("member")),
        )
    except Membership.DoesNotExist:
        raise Http404("No such membership") from None
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        who = membership.member_identifier or "nobody"
        messages.success(request, f"{membership.user} works as {who} on {membership.connection}.")
    return redirect("psa-member")
