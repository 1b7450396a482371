"""`/health`: liveness and readiness (chain, database, contracts), answered from a probe
that runs in its own thread.

Load balancers and supervisors ask `/health` often and expect an answer at once. Probing
the database and the node inside the request made it as slow as the busiest request
beside it (p99 over 500 ms while four clients sent the heaviest queries); now a thread
probes every PROBE_INTERVAL_SECONDS and the endpoint answers from the last result, with
the time it was taken. A result older than STALE_SECONDS (the prober is stuck) is not
used: the request probes itself.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from cooperative.platform import Platform
from cooperative.store.database import is_reachable

log = logging.getLogger("cooperative.api.health")
PROBE_INTERVAL_SECONDS = 0.5
STALE_SECONDS = 5.0


class HealthProbe:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._last: tuple[float, dict[str, Any], int] | None = None  # (monotonic, body, status)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def probe(self) -> tuple[dict[str, Any], int]:
        """Ask the database and the node now: the body and its HTTP status."""
        platform = self.platform
        database = is_reachable(platform.engine)
        try:
            chain_id: int | None = platform.gateway.chain_id
            latest_block: int | None = platform.gateway.latest_block()
        except Exception:  # any failure of the node is "unreachable" here, never a 500
            chain_id = latest_block = None
        healthy = database and latest_block is not None and platform.chain_status == "ok"
        body = {
            "status": "ok" if healthy else "degraded",
            "chain": platform.chain_status if latest_block is not None else "unreachable",
            "chainId": str(chain_id) if chain_id is not None else None,
            "latestBlock": str(latest_block) if latest_block is not None else None,
            "database": "ok" if database else "unreachable",
            "network": platform.deployment.network,
            "contracts": platform.contracts_deployed(),
            "checkedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        status = 200 if healthy else 503
        self._last = (time.monotonic(), body, status)
        return body, status

    def last(self) -> tuple[dict[str, Any], int] | None:
        """The last probe's answer, if it is recent enough to give."""
        last = self._last
        if self._thread is None or not self._thread.is_alive():
            return None  # nobody keeps it fresh (an app run without its lifespan)
        if last is None or time.monotonic() - last[0] > STALE_SECONDS:
            return None
        return last[1], last[2]

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=STALE_SECONDS)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.probe()
            except Exception:  # the store itself failing: answer from the request, log once
                log.warning("the health probe failed; /health probes per request", exc_info=True)
            self._stopping.wait(PROBE_INTERVAL_SECONDS)
