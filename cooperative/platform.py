"""The running platform: settings, store, keystore, chain, deployment — started in order.

`Platform.start()` is what `coop serve` and the tests call: it opens the store, opens the
keystore (a wrong secret fails here), connects to the chain (or starts the embedded
node), deploys when nothing is recorded for the network (or checks what is recorded),
and mirrors the member register. A second start on the same data directory reuses all of it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web3.exceptions import ContractLogicError, MismatchedABI

from cooperative import apikeys
from cooperative.anchoring import AnchorChain, Anchoring
from cooperative.errors import CoopError, ValidationFailed
from cooperative.indexer import READ_MODELS, Indexer
from cooperative.numbering import TicketNumbers
from cooperative.outbox import InFlight, Outbox
from cooperative.projectors import Projection
from cooperative.root_causes import RootCauses
from cooperative.settings import Settings
from cooperative.store.database import create_schema, make_engine, session_scope
from cooperative.store.keystore import Keystore, KeystoreError, load_or_create_secret
from cooperative.store.models import MemberProfile, Role
from deployments import records, upgrades
from deployments.chain import ChainError, ChainGateway
from deployments.compiler import Compiler
from deployments.deploy import Founder, deploy_system, verify_deployment
from deployments.node import LocalNode, NodeError, fund_for_gas, running_node_url
from deployments.records import ContractRecord, Deployment, RecordsError
from governance.rules import DEFAULT_MINIMUM_DELAY, DEFAULT_RULES, rules_in_kind_order, short_rules
from governance.service import Governance

log = logging.getLogger("cooperative.platform")

DEMO_MEMBERS = ["Aurora Telecom", "Borealis Networks", "Cirrus Fiber"]


def reconcile(
    outbox: Outbox,
    gateway: ChainGateway,
    keystore: Keystore,
    *,
    embedded: bool,
    progress: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Bring the chain up to the outbox (see Outbox.reconcile). On the embedded node the
    accounts' funding (anvil_setBalance, not a transaction) may have been lost with the
    last blocks: unfunded platform accounts are funded again first."""
    if embedded:
        accounts = keystore.addresses("operator") + keystore.addresses("member")
        accounts += keystore.self_custodial() + outbox.senders()
        for address in dict.fromkeys(accounts):
            fund_for_gas(gateway, address)
    report = outbox.reconcile(gateway, set_timestamps=embedded)
    if report.resent:
        progress(f"sent {report.resent} recorded transactions the chain had lost again")


class StartupError(CoopError):
    """The platform cannot start; the message says why and what to do."""


@contextmanager
def chain_errors_as_startup() -> Iterator[None]:
    try:
        yield
    except ChainError as exc:
        raise StartupError(str(exc)) from exc


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on the data directory for the life of the process: two
    platforms on one directory would run two nodes on one chain state file."""
    handle = (data_dir / ".lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StartupError(f"another coop process is using the data directory {data_dir}") from None
    return handle


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    keystore: Keystore
    gateway: ChainGateway
    compiler: Compiler
    deployment: Deployment
    node: LocalNode | None = None
    lock: IO[str] | None = None
    projection: Projection = field(init=False)
    indexer: Indexer = field(init=False)
    governance: Governance = field(init=False)

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._supervised = False  # (one supervisor thread, however often it is asked for)
        self.clock_blocks = 0  # empty blocks keep_clock sealed (an operational figure)
        # checkpoints anchor_periodically posted, and its seconds in them (figures too)
        self.anchored_checkpoints, self.anchoring_seconds = 0, 0.0
        journal = self.gateway.journal
        self.outbox = journal if isinstance(journal, Outbox) else Outbox(self.engine)
        self.gateway.journal = self.outbox
        self.in_flight = InFlight()
        self.ticket_numbers = TicketNumbers()
        self._anchoring: Anchoring | None = None
        self._anchoring_guard = threading.Lock()
        self.chain_status = "ok"  # "restarting" while the embedded node is brought back
        self.projection = Projection(self.gateway, self.compiler, self.deployment)
        self.indexer = Indexer(self.projection)
        self.governance = Governance(self.gateway, self.compiler, self.deployment)
        self.root_causes = RootCauses(self.engine)  # the sellers' root-cause suggestions

    @property
    def records_path(self) -> Path:
        return records.records_path(
            self.settings.network_name,
            self.settings.data_dir if self.settings.records_in_data_dir else None,
        )

    def deploy_module_implementation(self, module: str) -> ContractRecord:
        """Deploy a new implementation of `module` from today's source and record it."""
        with chain_errors_as_startup():
            record = upgrades.deploy_implementation(
                self.gateway, self.operator(), self.compiler, self.deployment, module
            )
        records.save(self.deployment, self.records_path)
        return record

    def check_module_upgrade(self, module: str, implementation: str) -> ContractRecord:
        """The candidate's record if its storage layout can replace the module's current one."""
        registry = self.governance.handle("ModuleRegistry")
        try:
            current = registry.functions.modules(module).call()[2]
        except (ContractLogicError, MismatchedABI):  # (a name the registry cannot hold)
            current = "0x0"
        if int(current, 16) == 0:
            raise ValidationFailed(f"no module named {module}", field="module")
        # Read the records afresh: `coop modules deploy` may have added an implementation
        # since this process started.
        try:
            recorded = records.load(self.records_path) or self.deployment
            return upgrades.check_upgrade(recorded, module, current, implementation)
        except (upgrades.LayoutIncompatible, RecordsError) as exc:
            raise ValidationFailed(str(exc), field="implementation") from exc

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        demo: bool = False,
        founders: list[str] | None = None,
        progress: Callable[[str], None] = lambda _msg: None,
        attach: bool = False,
    ) -> Platform:
        """Start everything; deploy when the network has no records yet. `founders` names
        the founding members to create custodial keys for (demo mode: the three demo carriers).
        With `attach`, a command joins the embedded node a running `coop serve` started on
        this data directory instead of refusing to start (the lock is the server's)."""
        # The data directory holds the database and the keystore: the operator's alone.
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if attach and not settings.rpc_url:
            running = running_node_url(settings.data_dir / "chain")
            if running is not None:
                # The server on this directory reconciles its node; a command only joins it.
                return cls._start(
                    settings.model_copy(update={"rpc_url": running}),
                    demo,
                    founders,
                    progress,
                    reconcile_chain=False,
                )
        lock = lock_data_dir(settings.data_dir)
        try:
            platform = cls._start(settings, demo, founders, progress)
        except BaseException:
            lock.close()
            raise
        platform.lock = lock
        return platform

    @classmethod
    def _start(
        cls,
        settings: Settings,
        demo: bool,
        founders: list[str] | None,
        progress: Callable[[str], None],
        reconcile_chain: bool = True,
    ) -> Platform:
        engine = make_engine(settings.resolved_database_url)
        grown = create_schema(engine)
        secret = settings.secret.get_secret_value() if settings.secret else None
        keystore = Keystore(engine, load_or_create_secret(settings.data_dir, secret))
        keystore.check_secret()

        node = None
        try:
            if settings.rpc_url:
                gateway = ChainGateway(settings.rpc_url)
                if not gateway.is_reachable():
                    raise StartupError(
                        f"cannot reach the chain node at {settings.rpc_url} (COOP_RPC_URL)"
                    )
            else:
                progress("starting the embedded chain node (anvil)")
                node = LocalNode(settings.data_dir / "chain")
                gateway = node.start()
        except (NodeError, ChainError) as exc:
            raise StartupError(str(exc)) from exc

        try:
            outbox = Outbox(engine)
            gateway.journal = outbox
            if reconcile_chain:
                with chain_errors_as_startup():
                    reconcile(
                        outbox, gateway, keystore, embedded=node is not None, progress=progress
                    )
            platform = cls._open_deployment(
                settings, engine, keystore, gateway, node, demo, founders, progress
            )
            platform.fill_new_columns(grown, progress)
        except BaseException:
            if node is not None:
                node.stop()
            raise
        return platform

    @classmethod
    def _open_deployment(
        cls,
        settings: Settings,
        engine: Engine,
        keystore: Keystore,
        gateway: ChainGateway,
        node: LocalNode | None,
        demo: bool,
        founders: list[str] | None,
        progress: Callable[[str], None],
    ) -> Platform:
        compiler = Compiler()
        path = records.records_path(
            settings.network_name, settings.data_dir if settings.records_in_data_dir else None
        )
        try:
            deployment = records.load(path)
            if deployment is not None:
                verify_deployment(gateway, deployment)
        except RecordsError as exc:
            raise StartupError(str(exc)) from exc

        if deployment is None:
            names = DEMO_MEMBERS if demo else founders
            if not names:
                raise StartupError(
                    f"nothing is deployed on network '{settings.network_name}' yet: run `coop deploy "
                    "--founder NAME ...` first, or `coop serve --demo`"
                )
            progress("deploying the cooperative's contracts")
            deployment = cls._deploy(settings, keystore, gateway, compiler, names, progress, demo)
            records.save(deployment, path)

        platform = cls(settings, engine, keystore, gateway, compiler, deployment, node)
        if node is not None:
            node.snapshot()  # a new chain, or one just rebuilt, is not left to a replay
        platform.sync()
        return platform

    @staticmethod
    def _deploy(
        settings: Settings,
        keystore: Keystore,
        gateway: ChainGateway,
        compiler: Compiler,
        names: list[str],
        progress: Callable[[str], None],
        demo: bool,
    ) -> Deployment:
        rules = (
            short_rules(settings.demo_voting_period, settings.demo_timelock_delay)
            if demo
            else DEFAULT_RULES
        )
        operators = keystore.addresses("operator")
        operator = keystore.account(operators[0]) if operators else keystore.create("operator")
        members = [keystore.create("member") for _ in names]
        for account in [operator, *members]:
            fund_for_gas(gateway, account.address)  # on a dev node (COOP_RPC_URL's too)
        try:
            return deploy_system(
                gateway,
                operator,
                compiler,
                network=settings.network_name,
                founders=[Founder(m.address, n) for m, n in zip(members, names, strict=True)],
                operator=operator.address,
                governor_rules=rules_in_kind_order(rules),
                minimum_delay=min(
                    DEFAULT_MINIMUM_DELAY, *(r.timelock_delay for r in rules.values())
                ),
                guardian=operator.address,
                progress=progress,
            )
        except ChainError as exc:
            raise StartupError(f"deployment failed: {exc}") from exc

    def supervise_node(self, interval: float = 0.5) -> None:
        """Restart the embedded node if it dies, on its state file and port, and rebuild
        what it lost from the outbox. Meanwhile requests get UNAVAILABLE."""
        if self.node is None or self._supervised:
            return
        self._supervised = True

        def loop() -> None:
            while not self._stopping.wait(interval):
                if self.node is None:
                    return
                if self.node.is_running() and self.chain_status == "ok":
                    continue
                self.chain_status = "restarting"
                try:
                    # Closed before the node is back: nothing may send or seal a block on
                    # it until what it lost is rebuilt.
                    with self.gateway.sending.closed():
                        if not self.node.is_running():
                            log.warning("the embedded chain node died; restarting it")
                            self.node.start()
                        reconcile(self.outbox, self.gateway, self.keystore, embedded=True)
                        self.node.snapshot()
                    self.chain_status = "ok"
                    log.warning("the embedded chain node is back")
                except Exception:
                    log.exception("restarting the embedded chain node failed; trying again")

        threading.Thread(target=loop, name="node-supervisor", daemon=True).start()

    def keep_clock(self, poll: float = 0.25) -> None:
        """On the embedded node, which seals a block only when the platform sends: seal an
        empty block once the chain has been idle `clock_tick_seconds`, so `block.timestamp`
        follows the wall clock and what waits on time (a vote's end, a timelock's delay)
        comes due with nobody sending. A busy chain seals blocks anyway and gets none, so
        shared blocks keep their throughput. A network seals blocks by itself: nothing to do."""
        tick = self.settings.clock_tick_seconds
        if self.node is None or tick <= 0:
            return

        def loop() -> None:
            seen, since = -1, time.monotonic()
            while not self._stopping.wait(min(poll, tick)):
                try:
                    head, now = self.gateway.latest_block(), time.monotonic()
                    if head != seen:
                        seen, since = head, now
                    elif now - since >= tick and self.chain_status == "ok":
                        self.clock_blocks += self.gateway.seal_block_unless_moved(head)
                except Exception:  # the node may be restarting: its supervisor handles it
                    log.debug("sealing an idle block failed; trying again", exc_info=True)

        threading.Thread(target=loop, name="chain-clock", daemon=True).start()

    def follow_chain(self, interval: float = 2.0) -> None:
        """Keep the read models current in a background thread, so transactions that did
        not go through this API (a relayed ballot, another operator's tool) show up too."""

        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.sync()
                except Exception:  # the node or database may be restarting: try again later
                    log.warning("indexer sync failed; retrying", exc_info=True)

        threading.Thread(target=loop, name="indexer", daemon=True).start()

    def train_root_causes(self, interval: float = 30.0) -> None:
        """Retrain each seller's root-cause model once enough of its tickets were resolved
        since the last (cooperative.root_causes), in a background thread: a resolve
        request never waits for a training, nor holds the store while one runs."""

        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.root_causes.train_due()
                except Exception:  # the database may be restarting: the next round will do
                    log.warning("training root-cause models failed; retrying", exc_info=True)

        threading.Thread(target=loop, name="root-cause-trainer", daemon=True).start()

    def anchoring(self, *, attach: bool = False) -> Anchoring:
        """Checkpoints on the anchor chain (cooperative.anchoring), reached the first time
        they are asked for: `attach` joins the running server's embedded anchor node."""
        with self._anchoring_guard:
            if self._anchoring is None:
                operator = self.operator()
                chain = AnchorChain.open(
                    self.settings, self.engine, self.compiler, operator, attach=attach
                )
                self._anchoring = Anchoring(self.engine, self.gateway, operator, chain)
            return self._anchoring

    def anchor_periodically(self, poll: float = 2.0) -> None:
        """Post a checkpoint every `anchor_every_seconds` while the cooperative chain
        moves, or once it grew `anchor_every_blocks` past the last one."""
        anchoring = self.anchoring()
        every_seconds, every_blocks = (
            self.settings.anchor_every_seconds,
            self.settings.anchor_every_blocks,
        )

        def loop() -> None:
            last_posted, last_block = time.monotonic(), self.gateway.latest_block()
            while not self._stopping.wait(min(poll, every_seconds)):
                try:
                    head = self.gateway.latest_block()
                    due = time.monotonic() - last_posted >= every_seconds
                    if not (due or head - last_block >= every_blocks):
                        continue
                    started = time.perf_counter()
                    self.sync()
                    if anchoring.checkpoint() is not None:
                        self.anchored_checkpoints += 1
                    self.anchoring_seconds += time.perf_counter() - started
                    last_posted, last_block = time.monotonic(), head
                except Exception:  # either chain may be restarting: the next round will do
                    log.warning("anchoring a checkpoint failed; retrying", exc_info=True)

        threading.Thread(target=loop, name="anchoring", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        with suppress(Exception):  # the database may be gone; the chain has the rest
            self.outbox.flush()
        if self._anchoring is not None:
            self._anchoring.chain.stop()
        if self.node is not None:
            self.node.stop()
        self.engine.dispose()
        self.outbox.engine.dispose()
        if self.lock is not None:
            self.lock.close()  # releases the data directory's lock

    # ------------------------------------------------------------------ services

    def sync(self) -> int:
        """Bring the read models up to the chain's latest block; returns events applied."""
        self.outbox.flush()
        with session_scope(self.engine) as session:
            return self.indexer.sync(session)

    def fill_new_columns(
        self, grown: set[str], progress: Callable[[str], None] = lambda _msg: None
    ) -> None:
        """After create_schema added columns to `grown` tables: a read model's rows projected
        before this release lack them, so the read models are rebuilt (as `coop reindex`)."""
        if grown & {model.__tablename__ for model in READ_MODELS}:
            progress("rebuilding the read models for this release's new columns")
            self.reindex()

    def reindex(self) -> int:
        """Drop every read model and rebuild it from the chain and the outbox's documents,
        in one store transaction (readers see the old rows until it commits); returns the
        events applied."""
        self.outbox.flush()
        with session_scope(self.engine) as session:
            self.indexer.reset(session)
            return self.indexer.sync(session)

    def fund_locally(self, address: str) -> None:
        """On a dev node only (its ether is free: the embedded one, or anvil's or Hardhat's
        at COOP_RPC_URL): give a carrier's account ether for gas, e.g. a newcomer proposed
        for admission. A production network funds its accounts its own way (or charges no
        gas): nothing is done there."""
        fund_for_gas(self.gateway, address)

    def operator(self) -> LocalAccount:
        account = self.keystore.account(self.deployment.operator)
        if not isinstance(account, LocalAccount):
            raise KeystoreError(f"the keystore holds no key of the operator {account.address}")
        return account

    def contracts_deployed(self) -> dict[str, str]:
        return {name: item.address for name, item in self.deployment.contracts.items()}

    def describe_call(self, to: str | None, data: str) -> str:
        """A transaction's call in words, e.g. `Ordering.requestQuote(seller=0x…, …)`, for
        a member asked to sign it (values over 66 characters are cut short)."""
        names = {item.address.lower(): name for name, item in self.deployment.contracts.items()}
        name = names.get((to or "").lower())
        if name is None:
            return "a call to a contract the platform does not know"
        try:
            function, arguments = self.governance.handle(name).decode_function_input(data)
        except Exception:  # not this contract's ABI: say so rather than fail the answer
            return f"{name}: a call its ABI does not describe"
        shown = []
        for argument, value in arguments.items():
            text = "0x" + value.hex() if isinstance(value, bytes) else str(value)
            shown.append(f"{argument}={text if len(text) <= 66 else text[:63] + '…'}")
        return f"{name}.{function.fn_name}({', '.join(shown)})"

    # ------------------------------------------------------------------ demo credentials

    def demo_credentials(self, graphql_url: str) -> Path:
        """Write `<data-dir>/demo-credentials.json` (0600) with an admin key and one key per
        member. Keys still valid from an earlier start are reused, not multiplied."""
        path = self.settings.data_dir / "demo-credentials.json"
        existing = self._read_credentials(path)
        with session_scope(self.engine) as session:
            admin_key = existing.get("admin", {}).get("apiKey")
            if not self._key_is_valid(session, admin_key):
                admin_key = apikeys.issue(
                    session, owner="admin", role=Role.ADMIN, label="demo admin"
                ).secret
            previous = {m.get("address"): m.get("apiKey") for m in existing.get("members", [])}
            members = []
            for profile in session.exec(
                select(MemberProfile).order_by(MemberProfile.joined_block)
            ).all():
                if not profile.is_member:
                    continue
                key = previous.get(profile.address)
                if not self._key_is_valid(session, key):
                    key = apikeys.issue(
                        session, owner=profile.address, role=Role.MEMBER, label="demo"
                    ).secret
                members.append({"name": profile.name, "address": profile.address, "apiKey": key})
        document = {"graphql_url": graphql_url, "admin": {"apiKey": admin_key}, "members": members}
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(document, file, indent=2)
        tmp.replace(path)
        return path

    @staticmethod
    def _read_credentials(path: Path) -> dict:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _key_is_valid(session: Session, key: str | None) -> bool:
        if not key:
            return False
        try:
            apikeys.authenticate(session, f"Bearer {key}")
        except CoopError:
            return False
        return True
