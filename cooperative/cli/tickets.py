"""`coop tickets import FILE.csv`: a buyer's ERP export of trouble tickets, opened through
the API in batches of up to 500 rows, with a progress bar. Its service_id column names each
ticket's service by number (`12`, as a NOC export has it) or by the API's id (`Service:12`).

Every bad row is reported with its line number and reason and not written; the good rows
are opened. Each batch carries an idempotency key made of the file's hash and the batch's
rows, so running the same import again after an interruption opens nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from cooperative.assurance import MAX_BATCH
from cooperative.cli.client import PAYLOAD_ERRORS, ApiKeyOption, Client, UrlOption
from cooperative.cli.common import app, console, err, fail
from cooperative.ticket_import import RowProblem, parse_ticket_csv

tickets_app = typer.Typer(help="Trouble tickets.", no_args_is_help=True)
app.add_typer(tickets_app, name="tickets")

IMPORT = f"""mutation($in: ImportTroubleTicketsInput!) {{
  importTroubleTickets(input: $in) {{ tickets {{ id }} rejected {{ line reason }} {PAYLOAD_ERRORS} }}
}}"""


@tickets_app.command("import")
def import_tickets(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: service_id (12 or Service:12), impact, started_at, description"
            "[, external_id]",
            show_default=False,
        ),
    ],
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
    batch: Annotated[int, typer.Option(help=f"rows per request (1 to {MAX_BATCH})")] = MAX_BATCH,
) -> None:
    """Open the trouble tickets of an ERP's CSV export; report every bad row by line."""
    if not 1 <= batch <= MAX_BATCH:
        fail(f"--batch must be between 1 and {MAX_BATCH}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
        raise
    client = Client(url, api_key)
    good, problems = parse_ticket_csv(text)
    if problems and problems[0].line == 1:
        fail(problems[0].reason)
    records = _records_by_line(text)
    header = records[1]
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    opened = 0
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(f"importing {file.name}", total=len(good))
        for start in range(0, len(good), batch):
            chunk = good[start : start + batch]
            body = io.StringIO()
            body.write(header + "\n")
            for line, _opening in chunk:
                body.write(records[line] + "\n")
            payload = client.mutate(
                IMPORT,
                "importTroubleTickets",
                {
                    "in": {
                        "csv": body.getvalue(),
                        "idempotencyKey": f"csv-{digest}-{start}-{len(chunk)}",
                    }
                },
            )
            opened += len(payload["tickets"])
            # the server numbers the batch's lines from its own header: map them back
            problems += [
                RowProblem(chunk[r["line"] - 2][0], r["reason"]) for r in payload["rejected"]
            ]
            progress.advance(task, len(chunk))
    for problem in sorted(problems, key=lambda p: p.line):
        err.print(f"line {problem.line}: {problem.reason}", highlight=False)
    console.print(f"opened {opened} tickets; {len(problems)} rows not imported", highlight=False)
    if problems:
        raise typer.Exit(1)


def _records_by_line(text: str) -> dict[int, str]:
    """Each CSV record re-written as one line, by the line number it ends on (the numbering
    the parser reports problems in)."""
    reader = csv.reader(io.StringIO(text))
    records = {}
    for record in reader:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(record)
        records[reader.line_num] = out.getvalue()
    return records
