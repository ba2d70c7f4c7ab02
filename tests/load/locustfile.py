"""The load mix (README, "Load"): locust users acting as the demo alliance's host (kirari) and
one brand (midori-fitness) against a running server, with the keys tests/load/run.sh issued.

Every write carries a fresh Idempotency-Key. Each operation names the statuses it expects:
its success, and the refusals the API documents for it under this mix (a hold larger than the
wallet: 409 insufficient_coins; a member already enrolled: 409 conflict...). A refusal is a
success for locust and is counted per operation, status and error code in refusals.csv; any
other status (a 5xx above all) is a failure, and locust exits non-zero.

With several servers (SANPO_LOAD_HOSTS, comma-separated base URLs; run.sh starts two gunicorn
instances), each user talks to one of them in turn: a link clicked through one server is
converted through the other, a hold taken on one is captured there, so the run shows that
nothing a request needs lives in a web process.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from locust import HttpUser, between, events, task

HOST_KEY = os.environ.get("SANPO_LOAD_HOST_KEY", "")
BRAND_KEY = os.environ.get("SANPO_LOAD_BRAND_KEY", "")
OUT = os.environ.get("SANPO_LOAD_OUT", "var/load")
SERVERS = [url for url in os.environ.get("SANPO_LOAD_HOSTS", "").split(",") if url]
_next_server = itertools.count()

_refusals: Counter[tuple[str, int, str]] = Counter()
_lock = threading.Lock()
_members: list[str] = []
_offer: dict[str, str] = {}
_links: list[str] = []


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"load-{uuid.uuid4().hex}"}


def _pick_server(user: HttpUser) -> None:
    """Point ``user`` at the next server of SANPO_LOAD_HOSTS (else --host, as given)."""
    if SERVERS:
        user.host = SERVERS[next(_next_server) % len(SERVERS)]
        user.client.base_url = user.host


class _Sanpo(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    api_key = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _pick_server(self)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {self.api_key}"

    def call(
        self,
        method: str,
        path: str,
        name: str,
        ok: int,
        refusals: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """One request; the answer's JSON when it succeeded, None when refused or failed."""
        if method == "POST" and kwargs.pop("idempotent", True):
            kwargs["headers"] = {**kwargs.get("headers", {}), **_key()}
        with self.client.request(
            method, path, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code == ok:
                response.success()
                try:
                    return response.json()
                except ValueError:
                    return {}
            try:
                code = response.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "?"
            if f"{response.status_code} {code}" in refusals:
                response.success()
                with _lock:
                    _refusals[(name, response.status_code, code)] += 1
                return None
            response.failure(f"{response.status_code}: {response.text[:300]}")
            return None

    def member(self) -> str:
        return random.choice(_members)


class Host(_Sanpo):
    """Kirari: the till (earn, holds captured or voided), enrollments, referral links, reads."""

    weight = 3
    api_key = HOST_KEY

    def on_start(self) -> None:
        super().on_start()
        with _lock:
            if not _members:
                _load_world(self)

    @task(6)
    def earn(self) -> None:
        self.call(
            "POST",
            "/api/v1/coins/purchases",
            "earn: POST /coins/purchases",
            201,
            (),
            json={
                "member_number": self.member(),
                "amount_yen": str(random.randint(100, 20000)),
                "order_id": f"LOAD-{uuid.uuid4().hex[:20]}",
            },
        )

    @task(4)
    def redeem_with_hold(self) -> None:
        hold = self.call(
            "POST",
            "/api/v1/coins/holds",
            "redeem: POST /coins/holds",
            201,
            ("409 insufficient_coins",),
            json={
                "member_number": self.member(),
                "coins": random.randint(1, 120),
                "reference": f"CART-{uuid.uuid4().hex[:12]}",
            },
        )
        if hold is None:
            return
        hold_id = hold["hold_id"]
        if random.random() < 0.7:
            body = {} if random.random() < 0.5 else {"coins": max(1, hold["coins"] // 2)}
            self.call(
                "POST",
                f"/api/v1/coins/holds/{hold_id}/capture",
                "redeem: POST /coins/holds/{id}/capture",
                200,
                ("409 hold_resolved",),
                json=body,
            )
        else:
            self.call(
                "POST",
                f"/api/v1/coins/holds/{hold_id}/void",
                "redeem: POST /coins/holds/{id}/void",
                200,
                ("409 hold_resolved",),
                json={},
            )

    @task(2)
    def enroll(self) -> None:
        self.call(
            "POST",
            "/api/v1/enrollments",
            "enroll: POST /enrollments",
            201,
            ("409 conflict", "403 consent_required"),
            json={"member_number": self.member(), "target": "midori-fitness"},
        )

    @task(2)
    def referral_link(self) -> None:
        if not _offer:
            return
        link = self.call(
            "POST",
            f"/api/v1/referrals/offers/{_offer['id']}/links",
            "referral: POST /referrals/offers/{id}/links",
            201,
            ("403 consent_required",),
            json={"member_number": self.member(), "channel": "load: flyer"},
        )
        if link is not None:
            with _lock:
                _links.append(link["token"])
                del _links[:-500]

    @task(2)
    def read_members(self) -> None:
        self.call("GET", "/api/v1/members?limit=50", "read: GET /members", 200)

    @task(3)
    def read_history(self) -> None:
        self.call(
            "GET",
            f"/api/v1/coins/history?member_number={self.member()}&limit=50",
            "read: GET /coins/history",
            200,
        )

    @task(2)
    def read_balance(self) -> None:
        self.call(
            "GET",
            f"/api/v1/coins/balance?member_number={self.member()}",
            "read: GET /coins/balance",
            200,
        )

    @task(1)
    def read_funnel(self) -> None:
        self.call("GET", "/api/v1/referrals/funnel", "read: GET /referrals/funnel", 200)

    @task(1)
    def read_figures(self) -> None:
        self.call("GET", "/api/v1/metrics/figures?grain=month", "read: GET /metrics/figures", 200)


class Visitor(HttpUser):
    """A member following a referral link: no key, a redirect to the destination."""

    weight = 1
    wait_time = between(0.05, 0.3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _pick_server(self)

    @task
    def click(self) -> None:
        if not _links:
            return
        token = random.choice(_links)
        with self.client.get(
            f"/r/{token}",
            name="referral: GET /r/{token}",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                response.success()
                with _lock:
                    _clicked.append(token)
                    del _clicked[:-500]
            else:
                response.failure(f"{response.status_code}")


_clicked: list[str] = []
_own_members: list[str] = []
_tracked: list[str] = []
_notice: dict[str, str] = {}


class Brand(_Sanpo):
    """Midori Fitness Club: consent checks, conversions of clicked links, overlap questions."""

    weight = 2
    api_key = BRAND_KEY

    def on_start(self) -> None:
        super().on_start()
        with _lock:
            if not _own_members:
                response = self.client.get(
                    "/api/v1/members?status=active&limit=200", name="setup: GET /members"
                )
                _own_members.extend(m["member_number"] for m in response.json()["results"])
                response = self.client.get(
                    "/api/v1/consent/notices/current", name="setup: GET /consent/notices/current"
                )
                _notice["id"] = response.json()["results"][0]["id"]
                # seed_demo_alliance has Midori's first four active members (by number) agree to
                # referral tracking with Kirari: only their sales are tracked (others: 403).
                _tracked.extend(sorted(_own_members)[:4])

    @task(1)
    def grant_consent(self) -> None:
        """A member agrees in Midori's app to its co-marketing contact (a consent event; a
        brand records consents only with itself as the recipient)."""
        number = random.choice(_own_members)
        self.call(
            "POST",
            f"/api/v1/members/{number}/consents",
            "consent: POST /members/{n}/consents",
            201,
            (),
            json={
                "purpose": "co_marketing_contact",
                "recipient": "midori-fitness",
                "notice": _notice["id"],
                "channel": "partner_app",
                "occurred_at": datetime.now(UTC).isoformat(),
                "jurisdiction": "JP",
            },
        )

    @task(4)
    def consent_check(self) -> None:
        if not _members:
            return
        self.call(
            "POST",
            "/api/v1/consent/check",
            "consent: POST /consent/check",
            200,
            idempotent=False,
            json={
                "purpose": "co_marketing_contact",
                "members": random.sample(_members, min(20, len(_members))),
            },
        )

    @task(2)
    def conversion(self) -> None:
        if not _clicked or not _tracked:
            return
        self.call(
            "POST",
            "/api/v1/referrals/conversions",
            "referral: POST /referrals/conversions",
            201,
            (),
            json={
                "kind": "sale",
                "member_number": random.choice(_tracked),
                "order_id": f"LOAD-{uuid.uuid4().hex[:20]}",
                "amount_yen": str(random.randint(1000, 30000)),
                "tokens": [random.choice(_clicked)],
            },
        )

    @task(1)
    def overlap(self) -> None:
        self.call(
            "GET",
            "/api/v1/overlap?other=kirari",
            "overlap: GET /overlap",
            200,
            ("429 rate_limited",),
        )


def _load_world(user: _Sanpo) -> None:
    """The host's active member numbers and its referral offer to midori-fitness."""
    response = user.client.get(
        "/api/v1/members?status=active&limit=200", name="setup: GET /members"
    )
    _members.extend(m["member_number"] for m in response.json()["results"])
    response = user.client.get("/api/v1/referrals/offers", name="setup: GET /referrals/offers")
    for offer in response.json()["results"]:
        if offer["source"] == "kirari" and offer["destination"] == "midori-fitness":
            _offer["id"] = offer["offer_id"]
            break


@events.quitting.add_listener
def _write_refusals(environment: Any, **_: Any) -> None:
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "refusals.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["operation", "status", "code", "count"])
        for (name, status, code), count in sorted(_refusals.items()):
            writer.writerow([name, status, code, count])
    print("\nDocumented refusals (not failures):")
    for (name, status, code), count in sorted(_refusals.items()):
        print(f"  {count:7}  {status} {code:28} {name}")
