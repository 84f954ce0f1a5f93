"""ConnectWise PSA REST 3.0 client: discovery, auth headers, paging, reads and writes.

Every request goes through `psa.http.RetryingHttp` (timeouts, retries, the rate budget) and
fails with a `psa.errors.PSAError` subclass. Paths are relative to the API base
(`{scheme}://{api host}/{Codebase}apis/3.0/`); a leading slash is accepted.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

from psa.connectwise import discovery
from psa.connectwise.credentials import DEFAULT_API_VERSION, credentials_of
from psa.errors import ConfigurationError, NotFound, PSAError, is_psa_error_body, parse_body
from psa.http import BACKGROUND, INTERACTIVE, RateBudget, RetryingHttp, RetryPolicy, budget_for_connection
from psa.lenient import UnparsableRecord, decode_records, refuse_unparsable

logger = logging.getLogger("psa.connectwise")

MAX_PAGE_SIZE = 1000  # developer guide, "Pagination": pageSize max 1,000
# Reference: endpoints.tsv — the only `POST .../search` endpoints ConnectWise offers.
SEARCHABLE_PATHS = frozenset({"service/tickets", "project/tickets"})


def replace_ops(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON-Patch `replace` operations for `changes`.

    ConnectWise replaces references as whole objects, never by sub-path, so
    {"status/id": 12} becomes {"op": "replace", "path": "status", "value": {"id": 12}}.
    """
    merged: dict[str, Any] = {}
    for key, value in changes.items():
        head, _, rest = key.strip("/").partition("/")
        if rest:
            reference = merged.setdefault(head, {})
            if not isinstance(reference, dict):
                raise ValueError(f"{key!r} conflicts with a plain value for {head!r}")
            reference[rest] = value
        else:
            merged[head] = value
    return [{"op": "replace", "path": path, "value": value} for path, value in merged.items()]


def _basic_auth(company_id: str, public_key: str, private_key: str) -> str:
    # Reference: developer guide, "Authentication": Basic base64("{companyId}+{publicKey}:{privateKey}")
    token = base64.b64encode(f"{company_id}+{public_key}:{private_key}".encode()).decode("ascii")
    return f"Basic {token}"


def _fields_param(fields: Iterable[str] | str | None) -> str | None:
    if fields is None:
        return None
    return fields if isinstance(fields, str) else ",".join(fields)


def _next_page_id(response: requests.Response, records: list[dict]) -> int | None:
    """The pageId of the Link header's next URL; None when there is no next link."""
    next_url = response.links.get("next", {}).get("url")
    if not next_url:
        return None
    query = {k.lower(): v for k, v in parse_qs(urlsplit(next_url).query).items()}
    raw: Any = query["pageid"][0] if query.get("pageid") else None
    if raw is None:  # a next link without pageId: continue after the last record we got
        last = records[-1]
        raw = last.psa_id if isinstance(last, UnparsableRecord) else last.get("id")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise PSAError(f"unusable pageId {raw!r} in the Link header", url=response.url) from None


class _UnparsablePage(ValueError):
    """A listing answer that looks like a JSON array but does not decode as a whole."""


# Reference: developer guide "Rate limiting": a site starts answering 429 at about 1000/minute.
SITE_REQUESTS_PER_MINUTE = 1000


class ConnectWiseClient:
    """One ConnectWise site + API member. Not thread-safe (one per task / thread)."""

    def __init__(
        self,
        *,
        site_url: str,
        company_id: str,
        public_key: str,
        private_key: str,
        client_id: str,
        api_version: str = DEFAULT_API_VERSION,
        policy: RetryPolicy = BACKGROUND,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.site = discovery.parse_site(site_url)
        if not company_id:
            raise ConfigurationError("the connection has no company id")
        if not (public_key and private_key):
            raise ConfigurationError("the connection has no API keys")
        if not client_id:
            raise ConfigurationError(
                "the connection has no clientId (ConnectWise requires one on every call)"
            )
        self.company_id = company_id
        self.api_version = api_version or DEFAULT_API_VERSION
        self.http = RetryingHttp(
            policy=policy, budget=budget, session=session, read_timeout=timeout, sleep=sleep
        )
        self._headers = {
            "Authorization": _basic_auth(company_id, public_key, private_key),
            "clientId": client_id,
            "Accept": f"application/vnd.connectwise.com+json; version={self.api_version}",
        }
        self._api_base: str | None = None

    @classmethod
    def from_connection(
        cls, connection: Any, *, interactive: bool = False, policy: RetryPolicy | None = None
    ) -> ConnectWiseClient:
        """A client for a Connection: interactive → the interactive budget with short retries,
        unless `policy` says otherwise (a webhook refresh: nobody waits, so background retries)."""
        policy = policy or (INTERACTIVE if interactive else BACKGROUND)
        if getattr(connection, "provider", "connectwise") != "connectwise":
            raise ConfigurationError(f"connection {connection.name!r} is not a ConnectWise connection")
        keys = credentials_of(connection)
        return cls(
            site_url=keys.site_url,
            company_id=keys.company_id,
            public_key=keys.public_key,
            private_key=keys.private_key,
            client_id=keys.client_id,
            api_version=keys.api_version,
            policy=policy,
            budget=budget_for_connection(
                connection, interactive=interactive, site_per_minute=SITE_REQUESTS_PER_MINUTE
            ),
            timeout=None if policy is INTERACTIVE else settings.PSA_TIMEOUT_SECONDS,
        )

    def __repr__(self) -> str:  # never the keys
        return f"<ConnectWiseClient {self.site.url} company={self.company_id!r}>"

    @property
    def requests_made(self) -> int:
        """Every HTTP request actually sent, retries included."""
        return self.http.requests_made

    # --- discovery -----------------------------------------------------------------------

    def company_info(self, *, refresh: bool = False) -> dict:
        """The site's companyinfo answer (cached per site + company)."""
        if not refresh:
            cached = discovery.cached_company_info(self.site, self.company_id)
            if cached:
                return cached
        url = discovery.companyinfo_url(self.site, self.company_id)
        try:
            # Reference: developer guide "Calling Company Info": GET /login/companyinfo/{company}, no auth
            response = self.http.send("GET", url, headers={"Accept": "application/json"})
        except NotFound as err:
            raise ConfigurationError(
                f"{self.site.url} does not answer companyinfo; is it a ConnectWise site?", url=url, status=404
            ) from err
        body = parse_body(response)
        discovery.parse_company_info(body, site=self.site, company_id=self.company_id)
        discovery.remember_company_info(self.site, self.company_id, body)
        return body

    @property
    def api_base(self) -> str:
        if self._api_base is None:
            info = discovery.parse_company_info(
                self.company_info(), site=self.site, company_id=self.company_id
            )
            self._api_base = self.site.api_base(info.codebase)
        return self._api_base

    def url(self, path: str) -> str:
        return self.api_base + path.lstrip("/")

    def _rediscover(self) -> bool:
        """Drop the cached codebase and ask again; True when the API base changed."""
        old = self._api_base
        discovery.forget_company_info(self.site, self.company_id)
        self._api_base = None
        new = self.api_base
        if new != old:
            logger.info("ConnectWise codebase changed for %s: %s → %s", self.site.url, old, new)
        return new != old

    # --- requests ------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, headers: dict | None = None, **kw: Any
    ) -> requests.Response:
        all_headers = {**self._headers, **(headers or {})}
        try:
            return self.http.send(method, self.url(path), headers=all_headers, **kw)
        except NotFound as err:
            # A record that does not exist comes back as a ConnectWise error body; a 404 without
            # one means the whole codebase path is unknown (the PSA was upgraded): rediscover once.
            if is_psa_error_body(err.body) or not self._rediscover():
                raise
        return self.http.send(method, self.url(path), headers=all_headers, **kw)

    def _json_list(self, response: requests.Response) -> list[dict]:
        if not response.content:
            return []
        try:
            body = response.json()
        except RecursionError as err:  # e.g. thousands of nested arrays in one record
            raise _UnparsablePage(str(err)) from None
        except ValueError:
            body = parse_body(response)
            if response.text.lstrip().startswith("["):
                raise _UnparsablePage("invalid JSON in a list answer") from None
        if not isinstance(body, list):
            raise PSAError(
                f"expected a JSON list, got {type(body).__name__}",
                url=response.url,
                status=response.status_code,
                body=body,
            )
        return body

    def _page_records(self, response: requests.Response, again: Callable[[], requests.Response]) -> list:
        """The records of a listing page. A page that does not decode is asked for once more
        (a cut-off answer may be transient), then decoded record by record: the bad records
        come back as UnparsableRecord for the caller to skip and count, the rest as usual."""
        try:
            return self._json_list(response)
        except _UnparsablePage as err:
            logger.warning("%s: the page did not decode (%s); asking again", response.url, err)
        response = again()
        try:
            return self._json_list(response)
        except _UnparsablePage:
            pass
        try:
            return decode_records(response.text)
        except ValueError as err:
            raise PSAError(f"the listing page is not JSON: {err}", url=response.url) from None

    def system_info(self) -> dict:
        # Reference: endpoints.tsv GET /system/info (model Info: version, isCloud, serverTimeZone)
        return parse_body(self._request("GET", "system/info")) or {}

    def get(self, path: str, *, fields: Iterable[str] | str | None = None) -> dict:
        params = {"fields": _fields_param(fields)} if fields else None
        return parse_body(self._request("GET", path, params=params)) or {}

    def count(self, path: str, *, conditions: str | None = None) -> int:
        params = {"conditions": conditions} if conditions else None
        body = parse_body(self._request("GET", f"{path.strip('/')}/count", params=params))
        if not isinstance(body, dict) or "count" not in body:
            raise PSAError(f"unexpected count answer {body!r:.80}", url=self.url(path))
        return int(body["count"])

    def post(self, path: str, body: dict) -> dict:
        return parse_body(self._request("POST", path, json=body)) or {}

    def patch(self, path: str, ops: list[dict]) -> dict:
        # Reference: developer guide "Patch": a JSON-Patch array, references replaced whole.
        return parse_body(self._request("PATCH", path, json=ops)) or {}

    def delete(self, path: str) -> None:
        self._request("DELETE", path)

    # --- listings ------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        *,
        conditions: str | None = None,
        fields: Iterable[str] | str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        forward_only: bool = True,
        order_by: str | None = None,
        keep_unparsable: bool = False,
        after_id: int | None = None,
    ) -> Iterator[list[dict]]:
        """Every page of a listing, in order. Forward-only paging (ordered by id, no orderBy) by
        default; `forward_only=False` pages by number for endpoints without forward-only.
        `after_id` (forward-only): start after that record id, as a resumed listing does.

        A record that does not decode fails the listing (PSAError), unless `keep_unparsable`:
        then it comes back as an UnparsableRecord among the good ones (the sync engine skips and
        counts it); callers that index records never see one unless they ask."""
        for page in self._pages(path, conditions, fields, page_size, forward_only, order_by, after_id):
            if not keep_unparsable:
                refuse_unparsable(page, path)
            yield page

    def _pages(
        self,
        path: str,
        conditions: str | None,
        fields: Iterable[str] | str | None,
        page_size: int,
        forward_only: bool,
        order_by: str | None,
        after_id: int | None = None,
    ) -> Iterator[list[dict]]:
        page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        params: dict[str, Any] = {"pageSize": page_size}
        if conditions:
            params["conditions"] = conditions
        if fields:
            params["fields"] = _fields_param(fields)
        if forward_only:
            if order_by:
                raise ValueError("forward-only paging is always ordered by id; orderBy is not allowed")
            yield from self._forward_only_pages(path, params, page_size, after_id)
        else:
            if after_id is not None:
                raise ValueError("after_id needs forward-only paging (ordered by id)")
            if order_by:
                params["orderBy"] = order_by
            yield from self._numbered_pages("GET", path, params, page_size)

    def _forward_only_pages(
        self, path: str, params: dict, page_size: int, after_id: int | None = None
    ) -> Iterator[list[dict]]:
        # Reference: developer guide "Forward-Only": header pagination-type, query pageId (id > pageId),
        # the Link header's next URL carries the following pageId.
        headers = {"pagination-type": "forward-only"}
        page_id: int | None = after_id
        while True:
            query = dict(params) if page_id is None else {**params, "pageId": page_id}

            def fetch(query: dict = query) -> requests.Response:
                return self._request("GET", path, params=query, headers=headers)

            response = fetch()
            records = self._page_records(response, fetch)
            if not records:
                return
            yield records
            next_id = _next_page_id(response, records)
            # A short page is the last one: saves the empty request the PSA would answer next.
            if next_id is None or len(records) < page_size:
                return
            if page_id is not None and next_id <= page_id:
                raise PSAError(
                    f"forward-only paging did not advance (pageId {page_id} → {next_id})", url=response.url
                )
            page_id = next_id

    def _numbered_pages(
        self, method: str, path: str, params: dict, page_size: int, body: dict | None = None
    ) -> Iterator[list[dict]]:
        # Reference: developer guide "Navigable": page=1,2,... with an RFC 5988 Link header.
        page = 1
        while True:
            query = {**params, "page": page}
            json_body = {**body, "page": page, "pageSize": page_size} if body is not None else None

            def fetch(query: dict = query, json_body: dict | None = json_body) -> requests.Response:
                return self._request(method, path, params=query, json=json_body, repeatable=True)

            response = fetch()
            records = self._page_records(response, fetch)
            if records:
                yield records
            if len(records) < page_size:
                return
            if response.headers.get("Link") is not None and "next" not in response.links:
                return
            page += 1

    def list_all(self, path: str, **kw: Any) -> list[dict]:
        return [record for page in self.iter_pages(path, **kw) for record in page]

    def search(
        self,
        path: str,
        *,
        conditions: str,
        fields: Iterable[str] | str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[list[dict]]:
        """Pages of `POST {path}/search` with the conditions in the body (no URL length limit)."""
        base = path.strip("/").removesuffix("/search")
        if base not in SEARCHABLE_PATHS:
            raise ValueError(f"ConnectWise has no POST {base}/search; use iter_pages with split_in")
        page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        params: dict[str, Any] = {"pageSize": page_size}
        if fields:
            params["fields"] = _fields_param(fields)
        # Reference: endpoints.tsv POST /service/tickets/search, POST /project/tickets/search
        yield from self._numbered_pages(
            "POST", f"{base}/search", params, page_size, body={"conditions": conditions}
        )
