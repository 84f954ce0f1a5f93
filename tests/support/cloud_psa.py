"""A ConnectWise cloud site as the unit tests mock it with `responses`: the site, its companyinfo
discovery URL and answer, and the API base that answer leads to."""

from __future__ import annotations

SITE = "https://na.myconnectwise.net"
INFO_URL = f"{SITE}/login/companyinfo/acme"
BASE = "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
COMPANY_INFO = {
    "CompanyName": "Acme MSP",
    "Codebase": "v2025_1/",
    "VersionCode": "v2025.1",
    "VersionNumber": "v4.6.12345",
    "CompanyID": "acme",
    "IsCloud": True,
}
