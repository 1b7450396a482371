"""Numbers the platform chooses before the chain takes them: a service's ticket numbers.

The Assurance contract takes a service's tickets in number order (it refuses a number
taken or one after a gap), and the platform picks the numbers from its store. Two
requests opening tickets on one service at once would pick the same ones and the second
would be refused, so the numbers of a service are handed out under its lock, held until
the chain took them; the highest each service's last opening took is remembered, since
the store sees it only once that request's transaction has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager


class TicketNumbers:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._taken: dict[int, int] = {}  # service id -> highest number the chain took

    @contextmanager
    def reserving(
        self, service_ids: Iterable[int], from_store: Callable[[list[int]], dict[int, int]]
    ) -> Iterator[dict[int, int]]:
        """Each service's next number (after the store's `from_store` and any this process
        saw taken), its services locked until the block ends; the caller sends its
        openings inside and calls `taken` once they are mined."""
        wanted = sorted(set(service_ids))  # one order for every caller: no deadlock
        with ExitStack() as held:
            for service_id in wanted:
                held.enter_context(self._lock(service_id))
            stored = from_store(wanted)
            with self._guard:
                numbers = {s: max(stored[s], self._taken.get(s, -1) + 1) for s in wanted}
            yield numbers

    def taken(self, numbers: dict[int, int]) -> None:
        """The chain took these numbers (service id -> highest)."""
        with self._guard:
            for service_id, number in numbers.items():
                self._taken[service_id] = max(number, self._taken.get(service_id, -1))

    def _lock(self, service_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(service_id, threading.Lock())
