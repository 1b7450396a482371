"""The operator's commands: serve, deploy, reindex, assurance train, keys, schema, modules.

Every failure a user can cause prints one line saying what is wrong and what to do, and
exits with status 1; no tracebacks.
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cooperative import apikeys
from cooperative.cli.common import (
    DataDirOption,
    app,
    check_port_free,
    console,
    err,
    fail,
    load_settings,
    typed_key,
    user_errors,
)
from cooperative.store.models import ApiKey, MemberProfile, Role, utcnow

if TYPE_CHECKING:
    from cooperative.platform import Platform

# The server's collector and GIL settings (why: at `serve`).
GC_THRESHOLDS = (10_000, 10, 20)
GIL_SWITCH_INTERVAL_SECONDS = 0.001


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Deploy with three demo members and write their keys.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDirOption = None,
    voting_period: Annotated[
        int | None,
        typer.Option(help="Demo: seconds of voting (default 60), fixed at the first deployment."),
    ] = None,
    timelock_delay: Annotated[
        int | None, typer.Option(help="Demo: seconds from queue to execution (default 30).")
    ] = None,
) -> None:
    """Start the chain (embedded anvil unless COOP_RPC_URL is set), deploy if needed, serve the API."""
    import uvicorn

    from cooperative.api.app import create_app
    from cooperative.platform import Platform

    settings = load_settings(
        data_dir,
        host=host,
        port=port,
        demo_voting_period=voting_period,
        demo_timelock_delay=timelock_delay,
    )
    check_port_free(settings.host, settings.port)
    with user_errors():
        platform = Platform.start(
            settings, demo=demo, progress=lambda msg: err.print(f"[dim]{msg}…[/]")
        )
    try:
        graphql_url = f"http://{settings.host}:{settings.port}/graphql"
        with user_errors():
            credentials = platform.demo_credentials(graphql_url) if demo else None
        graphiql = demo or settings.environment == "development"
        platform.follow_chain()
        platform.train_root_causes()
        platform.supervise_node()
        platform.keep_clock()
        with user_errors():
            platform.anchor_periodically()
        console.print(
            f"[bold green]CarrierCoop is up[/] on chain {platform.gateway.chain_id} ({platform.deployment.network})"
        )
        console.print(
            f"GraphQL:     {graphql_url}{'  (GraphiQL in a browser)' if graphiql else ''}"
        )
        console.print(f"Health:      http://{settings.host}:{settings.port}/health")
        if credentials is not None:
            console.print(f"Credentials: {credentials}")
        # SIGTERM stops like Ctrl-C, so the embedded node dumps its state on the way out.
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        # What start-up built lives as long as the process: out of the collector's full
        # passes, which otherwise walk its ~200k objects, holding every request each time.
        gc.freeze()
        # Fewer, cheaper young collections, and a shorter GIL slice so the health probe
        # and light requests are not held behind a thread validating a heavy document.
        # Measured with `python -m benchmarks attack`: /health p99 under 60 ms in every
        # scenario (from 550-960 ms); see the README's performance notes.
        gc.set_threshold(*GC_THRESHOLDS)
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
        config = uvicorn.Config(
            create_app(platform, graphiql=graphiql),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            # asyncio's loop, not uvloop: with uvloop, /health waited up to 115 ms (p99)
            # behind threads running the widest queries; 70 ms with asyncio's (benchmarks attack)
            loop="asyncio",
        )
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()


@app.command()
def deploy(
    founder: Annotated[
        list[str], typer.Option("--founder", help="A founding member's name (repeat).")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Deploy the cooperative's contracts to the configured network, with custodial keys for the founders."""
    from cooperative.platform import Platform

    settings = load_settings(data_dir)
    with user_errors():
        platform = Platform.start(
            settings, founders=founder, progress=lambda msg: err.print(f"[dim]{msg}…[/]")
        )
    try:
        table = Table(title=f"{platform.deployment.network} (chain {platform.deployment.chain_id})")
        table.add_column("contract")
        table.add_column("address")
        table.add_column("version")
        for item in platform.deployment.contracts.values():
            table.add_row(item.name, item.address, str(item.version))
        console.print(table)
    finally:
        platform.stop()


@app.command()
def anchor(data_dir: DataDirOption = None) -> None:
    """Post a checkpoint of the cooperative chain to the anchor chain now (joins a running server)."""
    with _attached(data_dir) as platform:
        with user_errors():
            posted = platform.anchoring(attach=True).checkpoint()
        if posted is None:
            console.print(
                "no transaction since the last checkpoint (empty blocks only): nothing to anchor"
            )
            return
        console.print(
            f"checkpoint {posted.index}: cooperative block {posted.source_block} "
            f"({posted.source_block_hash}), {posted.tree_size} commitments, root {posted.root}; "
            f"anchor transaction {posted.anchor_tx} on chain {posted.anchor_chain_id}",
            highlight=False,
        )


@contextmanager
def _attached(data_dir: Path | None) -> Iterator[Platform]:
    """The platform on the data directory, joining a running server's node, stopped after."""
    from cooperative.platform import Platform

    with user_errors():
        platform = Platform.start(
            load_settings(data_dir), attach=True, progress=lambda msg: err.print(f"[dim]{msg}…[/]")
        )
    try:
        yield platform
    finally:
        platform.stop()


@app.command()
def reindex(data_dir: DataDirOption = None) -> None:
    """Rebuild every read model from the chain and the outbox's documents (the server stopped)."""
    import time

    from cooperative.platform import Platform

    settings = load_settings(data_dir)
    with user_errors():
        platform = Platform.start(settings, progress=lambda msg: err.print(f"[dim]{msg}…[/]"))
    try:
        started = time.perf_counter()
        with user_errors():
            applied = platform.reindex()
        console.print(
            f"rebuilt the read models from {applied} events in {time.perf_counter() - started:.1f} s"
        )
    finally:
        platform.stop()


assurance_app = typer.Typer(
    help="SLA assurance: the sellers' root-cause suggestions.", no_args_is_help=True
)
app.add_typer(assurance_app, name="assurance")


@assurance_app.command("train")
def assurance_train(
    seller: Annotated[
        str | None, typer.Option(help="Only this seller's model (its address, or Member:0x…).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Train each seller's root-cause model on its own resolved tickets now (joins a running server)."""
    from web3 import Web3

    from cooperative.root_causes import MIN_CAUSES, MIN_TICKETS

    seller = typed_key(seller, "Member", "a member") if seller else seller
    if seller is not None and not Web3.is_address(seller):
        fail(f"{seller} is not an address")
    with _attached(data_dir) as platform, user_errors():
        sellers = [Web3.to_checksum_address(seller)] if seller else platform.root_causes.sellers()
        if not sellers:
            console.print("no seller has resolved a ticket yet: nothing to learn from")
        for address in sellers:
            done = platform.root_causes.train(address)
            if not done.trained:
                console.print(
                    f"{address}: {done.tickets} resolved tickets, {len(done.causes)} causes: "
                    f"no model yet (it takes {MIN_TICKETS} tickets and {MIN_CAUSES} causes)",
                    highlight=False,
                )
                continue
            live = (
                f"; top suggestion taken on {done.taken} of {done.checked} tickets "
                "resolved since its first model"
                if done.checked
                else ""
            )
            console.print(
                f"{address}: trained on {done.tickets} tickets ({', '.join(done.causes)}) "
                f"in {done.seconds:.1f} s, {done.size / 1024:.0f} KB{live}",
                highlight=False,
            )


def _engine(data_dir: Path | None):  # noqa: ANN202  (an Engine; imported lazily)
    from cooperative.store.database import create_schema, make_engine

    settings = load_settings(data_dir)
    with user_errors():
        engine = make_engine(settings.resolved_database_url)
        create_schema(engine)
    return engine


keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    member: Annotated[
        str | None,
        typer.Option(help="The member's address, or its id Member:0x… (a member key)."),
    ] = None,
    role: Annotated[
        Role, typer.Option(help="member, admin or auditor.", case_sensitive=False)
    ] = Role.MEMBER,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    data_dir: DataDirOption = None,
) -> None:
    """Create an API key and print it (shown once)."""
    from cooperative.store.database import session_scope

    member = typed_key(member, "Member", "a member") if member else member
    if role is Role.MEMBER and not member:
        fail("a member key needs --member ADDRESS (or use --role admin / --role auditor)")
    if role is not Role.MEMBER and member:
        fail("--member is only for member keys")
    engine = _engine(data_dir)
    with user_errors(), session_scope(engine) as session:
        owner = role.value
        if member:
            profile = session.get(MemberProfile, member)
            if profile is None or not profile.is_member:
                fail(f"{member} is not a member (see `members` in the API)")
            owner = profile.address
            # Least privilege (as createApiKey): the operator hands a member its first key
            # only; further keys come from the member itself.
            if apikeys.has_keys(session, owner):
                fail(f"{owner} has an API key already: only the member creates further keys")
        issued = apikeys.issue(session, owner=owner, role=role, label=label, created_by="admin")
    console.print(f"key id {issued.record.id} for {owner} ({role.value})")
    console.print(issued.secret, highlight=False)


@keys_app.command("list")
def keys_list(data_dir: DataDirOption = None) -> None:
    """List API keys (never their secrets)."""
    from sqlmodel import Session, select

    engine = _engine(data_dir)
    table = Table()
    for column in ("id", "owner", "role", "label", "created", "last used", "revoked"):
        table.add_column(column)
    with Session(engine) as session:
        for key in session.exec(select(ApiKey).order_by(ApiKey.created_at)).all():
            table.add_row(
                key.id, key.owner, key.role.value, key.label, f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "-",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-",
            )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[
        str, typer.Argument(help="The key's id, as `keys list` shows it or as the API's ApiKey:….")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke an API key."""
    from cooperative.store.database import session_scope

    key_id = typed_key(key_id, "ApiKey", "an API key")
    engine = _engine(data_dir)
    with user_errors(), session_scope(engine) as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            fail(f"no API key with id {key_id}")
        assert key is not None
        if key.revoked_at is not None:
            fail(f"API key {key_id} is already revoked")
        key.revoked_at = utcnow()
        session.add(key)
    console.print(f"revoked {key_id}")


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL); `make schema` writes it to graphql/schema.graphql."""
    from cooperative.api.schema import schema as graphql_schema

    sys.stdout.write(str(graphql_schema).rstrip("\n") + "\n")
