"""Root-cause suggestions for a seller's NOC: each seller's own model, trained on its own
resolved tickets, ranks the root causes of a ticket it is the seller of.

What it learns from: the seller's resolved (or closed) tickets as seller, the buyer's
description and the impact (what the seller sees when it works on a ticket) against the
root cause the seller recorded when it resolved it. A reopened ticket is left out until it
is resolved again; the resolution note is left out (a new ticket has none). A TF-IDF of
words and character n-grams (typos, site and port names) and a logistic regression, from
scikit-learn.

Isolation applies to models as to records: a seller's training set is read through the
data-access layer as that seller, and only the tickets it is the seller of (not those it
bought: their causes are another seller's); a model is read back through the same layer,
so only its seller's requests reach it, and only on a ticket it is the seller of. Anyone
else gets no suggestions, never another seller's model output. The model rows are
never part of an API answer: only the ranked suggestions are.

A seller with fewer than MIN_TICKETS resolved tickets, or fewer than MIN_CAUSES distinct
causes among them, gets no suggestions yet rather than a guess. Models are trained by
`coop assurance train` and, in the server, by a background thread (Platform.train_root_causes)
once enough tickets were resolved since a seller's last model: never inside a request.

The models are not read models of the chain (the projectors write those, and `coop
reindex` drops and rebuilds them): they are kept across a rebuild, which gives the same
tickets back.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from sqlalchemy import distinct, func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, col, delete, select

from cooperative.access import DataAccess, Viewer
from cooperative.states import RootCause, TicketState
from cooperative.store.database import session_scope
from cooperative.store.models import Role, RootCauseModel, TroubleTicketRecord, utcnow

log = logging.getLogger("cooperative.root_causes")

MIN_TICKETS = 20
MIN_CAUSES = 2
RETRAIN_AFTER = 25  # new resolutions since a seller's model was trained ...
RETRAIN_SHARE = 0.10  # ... or this share of its training set, whichever is more
MAX_TICKETS = 5_000  # a seller's most recent resolutions: recent habits, bounded training time
# A ticket the seller resolved and nobody reopened: its cause is the seller's word.
LEARNED_STATES = (TicketState.RESOLVED.api, TicketState.CLOSED.api)
CAUSES = frozenset(cause.api for cause in RootCause if cause.api)
# A model pickled by another release of the library may not load, or not behave: such a
# model gives no suggestions and is trained again.
LIBRARY = f"scikit-learn {version('scikit-learn')}"
TRAINER_KEY = "root-cause-trainer"  # the key id of the trainer's viewer (no API key)


@dataclass(frozen=True)
class Suggestion:
    cause: str  # a RootCause api name, as resolveTroubleTicket takes it
    probability: float


@dataclass(frozen=True)
class Example:
    """One resolved ticket as the trainer sees it."""

    ticket_id: str
    text: str
    cause: str
    resolved_at: datetime


@dataclass(frozen=True)
class Training:
    """What one training of a seller's model did."""

    seller: str
    tickets: int
    causes: list[str]
    trained: bool  # False: too few tickets or causes (and no model kept)
    seconds: float = 0.0
    size: int = 0  # the stored model's bytes
    checked: int = 0  # tickets resolved while earlier models were in force ...
    taken: int = 0  # ... whose recorded cause was the model's top suggestion


def ticket_text(description: str, impact: str) -> str:
    """What the model reads of a ticket: the impact (as a word of its own) and the
    buyer's description."""
    return f"impact_{impact} {description}"


def build_pipeline() -> Any:
    """TF-IDF of words (1-2) and characters (3-5 within words, which survive typos and
    tell `xe-0/0/1` from `MW-2026-014`), then a multinomial logistic regression."""
    import numpy as np  # (imported here: every `coop` command would pay for it otherwise)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32),
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(3, 5),
                sublinear_tf=True,
                min_df=2,
                max_features=5_000,
                dtype=np.float32,
            ),
        ),
        LogisticRegression(C=1.0, max_iter=3_000),
    )


def fit(texts: list[str], causes: list[str]) -> Any:
    pipeline = build_pipeline()
    pipeline.fit(texts, causes)
    return pipeline


def rank(pipeline: Any, texts: list[str]) -> list[list[Suggestion]]:
    """Each text's causes, most likely first."""
    rows = pipeline.predict_proba(texts)
    return [
        sorted(
            (
                Suggestion(str(c), round(float(p), 4))
                for c, p in zip(pipeline.classes_, row, strict=True)
            ),
            key=lambda s: -s.probability,
        )
        for row in rows
    ]


def dump(pipeline: Any) -> bytes:
    return zlib.compress(pickle.dumps(pipeline, protocol=5), 9)


def load(blob: bytes) -> Any:
    # pickle runs code of the bytes' choosing, so it is safe only on bytes we wrote: these
    # are written by `dump` alone, from a pipeline this module trained, into the store,
    # and never come from a client, a file or another system.
    return pickle.loads(zlib.decompress(blob))


def seller_access(session: Session, seller: str) -> DataAccess:
    """The data-access layer as the seller sees it: the trainer reads nothing else."""
    return DataAccess(session, Viewer(principal=seller, role=Role.MEMBER, key_id=TRAINER_KEY))


def training_set(access: DataAccess) -> list[Example]:
    """The viewer's own resolved tickets as seller, most recent first (at most MAX_TICKETS)."""
    seller = access.viewer.member_address
    if seller is None:
        return []
    query = (
        access.private(TroubleTicketRecord)
        .where(TroubleTicketRecord.seller == seller)
        .where(col(TroubleTicketRecord.state).in_(LEARNED_STATES))
        .where(col(TroubleTicketRecord.root_cause).in_(CAUSES))
        .order_by(col(TroubleTicketRecord.resolved_at).desc(), col(TroubleTicketRecord.id))
        .limit(MAX_TICKETS)
    )
    return [
        Example(
            ticket_id=row.id,
            text=ticket_text(str(row.document.get("description", "")), row.impact),
            cause=str(row.root_cause),
            resolved_at=_utc(row.resolved_at or row.updated_at),
        )
        for row in access.session.exec(query)
    ]


class RootCauses:
    """The sellers' models in the store: trained here, loaded (and kept in memory, by
    version) for the suggestions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._loaded: dict[str, tuple[datetime, Any]] = {}  # seller -> (trained_at, pipeline)
        self._guard = threading.Lock()

    # ------------------------------------------------------------------ suggestions

    def suggest(
        self, access: DataAccess, seller: str, impact: str, description: str
    ) -> list[Suggestion]:
        """The causes of a ticket of `seller`'s, most likely first, if the viewer is that
        seller and has a model; else none."""
        if access.viewer.member_address != seller or not description.strip():
            return []
        pipeline = self._pipeline(access)
        if pipeline is None:
            return []
        return rank(pipeline, [ticket_text(description, impact)])[0]

    def _pipeline(self, access: DataAccess) -> Any:
        """The viewer's own model (the access layer gives no other), from memory while it
        is the one in the store; the blob is read only when it changed."""
        row = access.session.exec(
            access.private(RootCauseModel).options(defer(RootCauseModel.pipeline))
        ).first()
        if row is None or row.library != LIBRARY:
            return None
        trained_at = _utc(row.trained_at)
        with self._guard:
            cached = self._loaded.get(row.seller)
        if cached is not None and cached[0] == trained_at:
            return cached[1]
        pipeline = load(row.pipeline)
        with self._guard:
            self._loaded[row.seller] = (trained_at, pipeline)
        return pipeline

    # ------------------------------------------------------------------ training

    def train(self, seller: str) -> Training:
        """Train `seller`'s model from its own tickets now and store it (outside any
        request: reads in one short transaction, fits, writes in another)."""
        with Session(self.engine) as session:
            examples = training_set(seller_access(session, seller))
            previous = session.get(RootCauseModel, seller)
            if previous is not None:
                session.expunge(previous)  # (its blob is loaded: get() reads every column)
        causes = sorted({e.cause for e in examples})
        if len(examples) < MIN_TICKETS or len(causes) < MIN_CAUSES:
            if previous is not None:  # (tickets reopened since): no model rather than a stale one
                with session_scope(self.engine) as session:
                    session.exec(delete(RootCauseModel).where(col(RootCauseModel.seller) == seller))  # type: ignore[call-overload]
            return Training(seller, len(examples), causes, trained=False)
        checked, taken = self._top_suggestions_taken(previous, examples)
        pipeline = build_pipeline()
        started = time.perf_counter()
        pipeline.fit([e.text for e in examples], [e.cause for e in examples])
        seconds = time.perf_counter() - started
        blob = dump(pipeline)
        newest = max(e.resolved_at for e in examples)
        with session_scope(self.engine) as session:
            session.merge(
                RootCauseModel(
                    seller=seller,
                    pipeline=blob,
                    library=LIBRARY,
                    labels=causes,
                    tickets=len(examples),
                    last_resolved_at=newest,
                    last_ids=[e.ticket_id for e in examples if e.resolved_at == newest],
                    trained_at=utcnow(),
                    training_seconds=round(seconds, 3),
                    suggestions_checked=checked,
                    suggestions_taken=taken,
                )
            )
        log.info("trained the root-cause model of %s on %d tickets", seller, len(examples))
        return Training(seller, len(examples), causes, True, seconds, len(blob), checked, taken)

    @staticmethod
    def _top_suggestions_taken(
        previous: RootCauseModel | None, examples: list[Example]
    ) -> tuple[int, int]:
        """The running tally of whether the seller took the top suggestion: the tickets
        resolved since the previous model was trained were resolved while it was the one
        suggesting, and it is deterministic, so what it says of them now is what the
        seller was shown. Cheaper than recording anything in the resolve request."""
        if previous is None:
            return 0, 0
        checked, taken = previous.suggestions_checked, previous.suggestions_taken
        since = [e for e in examples if _resolved_since(previous, e)]
        if since and previous.library == LIBRARY:
            tops = rank(load(previous.pipeline), [e.text for e in since])
            checked += len(since)
            taken += sum(top[0].cause == e.cause for top, e in zip(tops, since, strict=True))
        return checked, taken

    def sellers(self) -> list[str]:
        """Every seller with a resolved ticket (for `coop assurance train`)."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(TroubleTicketRecord.seller)
                    .where(col(TroubleTicketRecord.state).in_(LEARNED_STATES))
                    .distinct()
                    .order_by(TroubleTicketRecord.seller)
                ).all()
            )

    def due(self) -> list[str]:
        """The sellers whose model is due: none yet and enough tickets for one, enough
        resolutions since the last (RETRAIN_AFTER, or RETRAIN_SHARE of its set), or one
        pickled by another library release. Only counts are read here, of every seller at
        once; a seller's tickets are read by its own training."""
        ticket, model = TroubleTicketRecord, RootCauseModel
        with Session(self.engine) as session:
            new = session.exec(
                select(ticket.seller, func.count(), func.count(distinct(ticket.root_cause)))
                .select_from(ticket)
                .outerjoin(model, col(model.seller) == col(ticket.seller))
                .where(col(ticket.state).in_(LEARNED_STATES))
                .where(col(ticket.root_cause).in_(CAUSES))
                .where(
                    or_(
                        col(model.seller).is_(None),
                        col(ticket.resolved_at) >= col(model.last_resolved_at),
                    )
                )
                .group_by(ticket.seller)
            ).all()
            models = {
                m.seller: m for m in session.exec(select(model).options(defer(model.pipeline)))
            }
        due = {m.seller for m in models.values() if m.library != LIBRARY}
        for seller, count, causes in new:
            trained = models.get(seller)
            if trained is None:
                if count >= MIN_TICKETS and causes >= MIN_CAUSES:
                    due.add(seller)
            # (less the tickets it learned from that were resolved at its newest time)
            elif count - len(trained.last_ids) >= max(
                RETRAIN_AFTER, RETRAIN_SHARE * trained.tickets
            ):
                due.add(seller)
        return sorted(due)

    def train_due(self) -> list[Training]:
        """Train every model that is due (see `due`), one seller after another."""
        return [self.train(seller) for seller in self.due()]


def _resolved_since(model: RootCauseModel, example: Example) -> bool:
    """Whether the ticket was resolved after `model` was trained (or again since)."""
    last = _utc(model.last_resolved_at)
    return example.resolved_at > last or (
        example.resolved_at == last and example.ticket_id not in model.last_ids
    )


def _utc(moment: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
