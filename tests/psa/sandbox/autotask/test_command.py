"""`manage.py psa_sandbox --provider autotask|both`: credentials printed, both PSAs on one port."""

from __future__ import annotations

import re
from io import StringIO

import requests
from django.core.management import call_command


def test_it_serves_autotask_and_connectwise_on_one_port(monkeypatch):
    from psa.management.commands.psa_sandbox import Command

    out, answers = StringIO(), {}

    def while_running(self) -> None:
        url = re.search(r"Autotask PSA sandbox at (\S+)", out.getvalue()).group(1)
        discovery = re.search(r"zone discovery  : (\S+)", out.getvalue()).group(1)
        answers["zone"] = requests.get(discovery, timeout=10).json()
        headers = {"UserName": "u@example.com", "Secret": "s3cret", "ApiIntegrationCode": "CODE"}
        answers["version"] = requests.get(
            answers["zone"]["url"] + "v1.0/Version", headers=headers, timeout=10
        ).status_code
        answers["companyinfo"] = requests.get(f"{url}/login/companyinfo/sandbox", timeout=10).status_code

    monkeypatch.setattr(Command, "wait_for_stop", while_running)
    call_command("psa_sandbox", "--provider", "both", "--port", "0", "--username", "u@example.com",
                 "--secret", "s3cret", "--integration-code", "CODE", "--anchor", "2030-05-15", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "secret          : s3cret" in text and "integration code: CODE" in text and "Tickets 500" in text
    assert "company id : sandbox" in text
    assert answers == {"zone": answers["zone"], "version": 200, "companyinfo": 200}
    assert answers["zone"]["url"].endswith("/ATServicesRest/")
