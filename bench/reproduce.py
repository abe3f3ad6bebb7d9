"""``pve reproduce``: regenerate every reference result in ``results/reference/`` with one command.

Each step is a ``pve`` command line; its folder gets a ``COMMAND.txt`` with exactly that line.
The README's quickstart table and "what we found" block are rebuilt from the result files, never
typed by hand, and a test checks that the committed README matches the committed results.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.errors import InputError
from bench.results.files import read_results
from bench.scenario.kinds import Family, family


def live_scenarios() -> list[str]:
    """The bundled scenarios small enough to play live (``monthly`` is for the simulator)."""
    from bench.live.runner import check_live_size
    from bench.scenario.spec import bundled_scenarios, load_scenario

    names = []
    for name in bundled_scenarios():
        try:
            check_live_size(load_scenario(name))
        except ValueError:
            continue
        names.append(name)
    return names


MOTO_PROFILE = "event_handlers/runtime/profiles/moto.toml"
BLOCKS = (
    "quickstart",
    "findings",
)  # README blocks rebuilt from the files: <!-- NAME:start ... --> ... <!-- NAME:end -->


@dataclass(frozen=True)
class Step:
    name: str
    argv: tuple[str, ...]
    replaces_folder: bool = True  # writes a results folder (takes --force), not one named file

    @property
    def command(self) -> str:
        return "pve " + " ".join(self.argv)


def steps(root: str) -> list[Step]:
    """Every step; each replaces (``--force``) what the reference folder held before."""
    return [Step(s.name, (*s.argv, "--force")) if s.replaces_folder else s for s in _steps(root)]


def _steps(root: str) -> list[Step]:
    out = [Step(name, ("run", name, "--out", f"{root}/{name}", "--quiet")) for name in live_scenarios()]
    out += [
        Step("cost", ("cost", "--sweep", "--out", f"{root}/cost", "--quiet")),
        Step(
            "cost-free-tier", ("cost", "--sweep", "--free-tier", "--out", f"{root}/cost-free-tier", "--quiet")
        ),
        Step("idle-cost", ("idle-cost", "--objects", "10000", "--out", f"{root}/idle-cost")),
        Step(
            "monthly",
            (
                "simulate",
                "monthly",
                "--days",
                "30",
                "--files-per-day",
                "1000",
                "100000",
                "10000000",
                "--max-records",
                "6000",
                "--out",
                f"{root}/monthly",
                "--quiet",
            ),
        ),
        Step(
            "validation",
            (
                "validate",
                "--live",
                f"{root}/quickstart",
                f"{root}/interval-sweep",
                "--out",
                f"{root}/validation",
                "--quiet",
            ),
        ),
        # the bundled `moto` latency profile is this fit
        Step(
            "moto-profile",
            ("calibrate", f"{root}/quickstart", "--out", MOTO_PROFILE, "--quiet"),
            replaces_folder=False,  # rewrites the one profile file it names
        ),
    ]
    return out


def run_steps(
    root: Path, only: list[str] | None, main: Callable[[list[str]], int], echo: Callable[[str], None]
) -> int:
    """Run the steps (all, or ``only`` those named), writing each one's COMMAND.txt; worst exit code."""
    worst = 0
    for step in steps(str(root)):
        if only and step.name not in only:
            continue
        echo(f"$ {step.command}")
        code = main(list(step.argv))
        worst = max(worst, code)
        folder = root / step.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "COMMAND.txt").write_text(step.command + "\n", encoding="utf-8")
        if code:
            echo(f"  exited with {code}")
    return worst


# -- findings: the README block, from the files ---------------------------------------------------------
def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:,.0f} ms" if value < 1 else f"{value:,.2f} s"


def findings(root: Path) -> str:
    """The README's findings, every number read from ``root``'s result files."""
    where = f"results/{root.name}"  # as the README's reader finds it
    return "\n".join(
        [
            *_latency_findings(root, where),
            *_interval_findings(root, where),
            *break_even_findings(root / "cost", where),
            *_idle_findings(root, where),
            *_monthly_findings(root, where),
            _validation_finding(root, where),
        ]
    )


def _latency_findings(root: Path, where: str) -> list[str]:
    """The quickstart's table: each strategy's p50, p95, requests and invocations on 200 files."""
    quick = read_results(root / "quickstart").summary
    lines = [
        f"**Latency on the same 200 files** (`{where}/quickstart/summary.json`; moto, `instant` profile):",
        "",
        "| strategy | p50 | p95 | requests | invocations |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, s in quick.strategies.items():
        lines.append(
            f"| {name} | {_ms(s.latency_s.p50)} | {_ms(s.latency_s.p95)} | "
            f"{s.api_calls_total} | {s.invocations} |"
        )
    return [*lines, ""]


def _interval_findings(root: Path, where: str) -> list[str]:
    """The interval sweep: a poll's mean latency against its interval."""
    sweep = read_results(root / "interval-sweep").summary
    polls = sorted(
        (
            (s.interval_s or 0.0, s.latency_s.mean)
            for s in sweep.strategies.values()
            if family(s.kind) is Family.POLL
        ),
        key=lambda item: item[0],
    )
    cells = ", ".join(f"{t:g} s: {_ms(mean)}" for t, mean in polls)
    return [
        f"**Poll latency follows the interval** (`{where}/interval-sweep/summary.json`): mean latency by "
        f"interval {cells} (half an interval plus the work, as theory says).",
        "",
    ]


def _idle_findings(root: Path, where: str) -> list[str]:
    """One idle poll of a full prefix: LIST requests per cursor strategy, and their monthly price."""
    idle = json.loads((root / "idle-cost" / "idle_cost.json").read_text(encoding="utf-8"))
    cells = ", ".join(
        f"{r['cursor']} {r['requests']} (${r['usd_per_month_at_1_per_min']:.2f} a month at one a minute)"
        for r in idle["rows"]
    )
    return [
        f"**An idle poll of a prefix holding {idle['objects']:,} objects** "
        f"(`{where}/idle-cost/idle_cost.json`), LIST requests: {cells}.",
        "",
    ]


def _monthly_findings(root: Path, where: str) -> list[str]:
    """The simulated month: median latency and bill per strategy and rate; never a price for a
    configuration that cannot run."""
    monthly = pd.read_csv(root / "monthly" / "comparison.csv")
    state = ""
    if "bucket" in monthly:  # results made since the start and retention were modelled
        state = "; " + "; ".join(str(b) for b in monthly["bucket"].dropna().unique())
    lines = [
        f"**A simulated 30-day month** (`{where}/monthly/comparison.csv`; `aws` profile, "
        f"{_work_label(root / 'monthly')}{state}): median latency / the month's bill",
        "",
    ]
    rates = sorted(monthly["files_per_day"].unique())
    lines.append("| strategy | " + " | ".join(f"{r:,.0f}/day" for r in rates) + " |")
    lines.append("| --- |" + " ---: |" * len(rates))
    for name, rows in monthly.groupby("strategy", sort=False):
        row_cells = [_monthly_cell(rows[rows["files_per_day"] == r].iloc[0]) for r in rates]
        lines.append(f"| {name} | " + " | ".join(row_cells) + " |")
    if "feasible" in monthly and not monthly["feasible"].astype(bool).all():
        lines += [
            "",
            "\\* cannot run as configured: its listings do not fit its interval, so it is neither timed nor"
            " priced (`why_not` in each strategy's summary.json)",
        ]
    return [*lines, ""]


def _monthly_cell(row: pd.Series) -> str:
    if "feasible" in row and not bool(row["feasible"]):
        return "cannot run \\*"  # never priced as if it could
    if "stable" in row and not bool(row["stable"]):
        return f"unbounded (u={float(row['utilisation']):,.2f}) / ${row['bill_usd']:,.2f}"
    return f"{_ms(row['latency_p50_s'])} / ${row['bill_usd']:,.2f}"


def _validation_finding(root: Path, where: str) -> str:
    """The simulator's checks: the theory's poll delay, and how many live strategies it reproduces."""
    validation = json.loads((root / "validation" / "validation.json").read_text(encoding="utf-8"))
    theory, rows_ = validation["theory"], validation["live_against_simulated"]
    tolerance = validation["tolerance"]
    close = [r for r in rows_ if r["holds"] and max(r["p50_off"], r["p95_off"]) <= tolerance]
    inside = [r for r in rows_ if r["holds"] and r not in close]
    failing = len(rows_) - len(close) - len(inside)
    verdict = (
        f"{len(close)} of {len(rows_)} live strategies are reproduced within {tolerance:.0%} at p50 and p95"
    )
    if inside:
        verdict += (
            f", {len(inside)} more inside the live quantile's own {validation['confidence']:.0%} confidence "
            f"interval ({', '.join(r['scenario'] + '/' + r['strategy'] for r in inside)})"
        )
    verdict += f"; {failing} NOT reproduced." if failing else ", all with equal LIST, GET and PUT counts."
    outside = validation.get("out_of_sample")
    if outside and outside.get("rows"):
        verdict += (
            f" Out of sample (fitted to {', '.join(outside['calibrated_on'])}, simulating "
            f"{', '.join(outside['validated_on'])}): {outside['holding']} of {outside['rows']} covered "
            "strategies hold"
            + (f"; not covered: {len(outside['uncovered'])}" if outside.get("uncovered") else "")
            + "."
        )
    sample = "in sample, " if outside else ""  # results made before out-of-sample validation: as before
    return (
        f"**The simulator is checked** (`{where}/validation/validation.json`): with Poisson arrivals the "
        f"poll detection delay averages {theory['mean_delay_s']:.3f} s for T = {theory['interval_s']:g} s "
        f"(uniform on [0, T]: KS p = {theory['ks_p_value']:.2f}); {sample}{verdict}"
    )


def _work_label(folder: Path) -> str:
    """The per-file work a simulation folder ran under, as its summaries state it."""
    for path in sorted(folder.glob("*/summary.json")):
        simulation = read_results(path.parent).summary.simulation
        processing = simulation.processing if simulation is not None else {}
        if processing.get("kind") == "work":
            size_kb = float(processing.get("file_size_mb") or 0.1) * 1000
            return (
                f"{float(processing['cpu_s']):g} s CPU + {float(processing['wait_s']):.3g} s wait per file "
                f"({size_kb:.3g} KB files' transfer included; the work model pve decide uses, Lambda at its "
                "memory's share of a vCPU)"
            )
        if processing.get("kind") == "constant":
            return f"{float(processing['value_s']) * 1000:g} ms per file"
    return "the profile's processing time"


def break_even_findings(folder: Path, where: str) -> list[str]:
    """The break-even block: ranges with what flips them (``break_even.json`` as a list), or the
    point figures of a sweep made before ranges (a document with a ``break_even`` list)."""
    document = json.loads((folder / "break_even.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "cost_sweep.csv")
    if isinstance(document, dict):
        return _point_break_evens(document, table, where)
    from bench.cost.sensitivity import two_sig

    sweep_path = folder / "sweep.json"
    sweep = json.loads(sweep_path.read_text(encoding="utf-8")) if sweep_path.exists() else {}
    points = {name: a["point"] for name, a in sweep.get("assumptions", {}).items()}
    against = document[0]["against"] if document else "?"
    joint = document[0]["joint"]["samples"] if document else 0
    lines = [
        f"**Break-even rates** (`{where}/cost/break_even.json`; no free tier; per file "
        f"{points.get('cpu_s', '?')} s CPU at one vCPU + {points.get('wait_s', '?')} s waiting, "
        f"{points.get('memory_mb', '?'):g} MB Lambda; each a point and a range over the intervals in "
        f"`bench/cost/pricing/assumptions.toml`, one assumption at a time and {joint} joint draws; "
        f"two significant figures): against *{against}*,"
    ]
    requirements = sweep.get("requirements")
    if requirements:  # sweeps made since issue 21: every option built to the same requirements
        lines[0] = lines[0].rstrip(",") + ". " + _requirements_sentence(requirements, points) + " Against it,"
    for entry in document:
        span = entry["files_per_day"]
        flips = f"; flips on {', '.join(entry['flips_on'])}" if entry["flips_on"] else ""
        flips += _choice_ends(entry)
        if span["point"] is None and span["low"] is None:
            rate = 10_000
            other = _cost_at(table, entry["option"], rate)
            base = _cost_at(table, against, rate)
            cheaper = entry["option"] if other < base else against
            lines.append(
                f"- {entry['option']}: never the same anywhere in the ranges ({cheaper} is cheaper; at "
                f"{rate:,} files a day ${two_sig(other)} a month against ${two_sig(base)})"
                + _cannot_run_from(table, entry["option"])
            )
            continue
        below = (span["low"] or span["point"] or 1.0) / 10
        cheaper = (
            entry["option"]
            if _cost_at(table, entry["option"], below) < _cost_at(table, against, below)
            else against
        )
        flips = f"; {cheaper} is cheaper below it" + flips
        point = "never at the point" if span["point"] is None else f"{two_sig(span['point'])} files a day"
        line = (
            f"- {entry['option']}: {point} (range {two_sig(span['low'])} to {two_sig(span['high'])}){flips}"
        )
        if span["high"] is None:
            line += "; **the range straddles the decision**: within the assumptions the crossing can vanish"
        if not entry.get("feasible", True):
            line += f"; at that rate it cannot run ({'; '.join(entry['why_not'])})"
        else:
            line += _cannot_run_from(table, entry["option"])
        lines.append(line)
    lines.append("")
    return lines


def _choice_ends(entry: dict) -> str:
    """Where the break-even lands when a requirement left to its default is chosen otherwise."""
    from bench.cost.sensitivity import two_sig
    from bench.requirements import CHOICES

    ends = [
        f"{name}={value}: {two_sig(rate)}"
        for name in entry.get("flips_on", [])
        if name in CHOICES
        for value, rate in entry.get("one_at_a_time", {}).get(name, {}).items()
    ]
    return f" ({'; '.join(ends)})" if ends else ""


def _requirements_sentence(req: dict, points: dict) -> str:
    """Which requirements the break-evens hold under, and which choices their ranges sweep."""
    kept = (
        f"inputs kept {req['keep_days']:g} days"
        if req["inputs"] == "keep"
        else "inputs deleted when processed"
    )
    said = [
        "an idempotency ledger on every option" if req["exactly_once"] else "no ledger on any option",
        f"{kept} (an inbox COPYs them to an archive; S3 storage billed to every option)",
        "the EC2 poller in two Availability Zones"
        if req["availability"] == "multi-az"
        else "one EC2 instance",
        f"network {req['network']}",
        req["encryption"].upper(),
        f"{req['log_bytes_per_file']:g} log bytes per file on every option",
    ]
    choices = [
        name for name in ("inputs", "availability", "network", "encryption", "exactly_once") if name in points
    ]
    swept = (
        f" The ranges also sweep the choices left to their defaults ({', '.join(choices)})."
        if choices
        else ""
    )
    return (
        "Every option is built to the same requirements (`bench.Requirements`, the defaults of `pve cost`): "
        + "; ".join(said)
        + "; instances sized to keep CPU, memory and network under 70%."
        + swept
    )


def _cannot_run_from(table: pd.DataFrame, deployment: str) -> str:
    if "feasible" not in table:
        return ""
    rows = table[(table["deployment"] == deployment) & ~table["feasible"].astype(bool)]
    if rows.empty:
        return ""
    first = rows.sort_values("files_per_day").iloc[0]
    from bench.cost.sensitivity import two_sig

    reason = str(first["why_not"]).split("; ")[0]
    return f"; it cannot run from {two_sig(float(first['files_per_day']))} a day ({reason})"


def _point_break_evens(document: dict, table: pd.DataFrame, where: str) -> list[str]:
    lines = [
        f"**Break-even rates** (`{where}/cost/break_even.json`; no free tier, 128 MB, 100 ms per file, "
        f"half of it CPU on a poller's instance): against *{document['baseline']}*,"
    ]
    for entry in document["break_even"]:
        rate = entry["files_per_day"]
        if rate is not None:
            lines.append(
                f"- {entry['other']}: the same at {rate:,.0f} files a day "
                f"(${entry['monthly_usd']:,.2f} a month)"
            )
            continue
        other = _cost_at(table, entry["other"], 100_000)
        base = _cost_at(table, document["baseline"], 100_000)
        lines.append(
            f"- {entry['other']}: never the same; at 100,000 files a day ${other:,.2f} a month "
            f"against ${base:,.2f}"
        )
    lines.append("")
    return lines


def _cost_at(table: pd.DataFrame, deployment: str, files_per_day: float) -> float:
    rows = table[table["deployment"] == deployment]
    nearest = rows.iloc[(rows["files_per_day"] - files_per_day).abs().argmin()]
    return float(nearest["monthly_usd"])


def quickstart_table(root: Path) -> str:
    """The reference quickstart's table, as the terminal shows it."""
    from rich.console import Console

    from bench.report.table import summary_table

    console = Console(width=124, record=True, file=io.StringIO(), color_system=None)
    console.print(summary_table(read_results(root / "quickstart").summary))
    return "```\n" + console.export_text().rstrip() + "\n```"


def blocks(root: Path) -> dict[str, str]:
    return {"quickstart": quickstart_table(root), "findings": findings(root)}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:start[^>]*-->)\n?(.*?)\n?(<!-- {name}:end -->)", re.DOTALL)


def _replacer(block: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f"{m.group(1)}\n{block}\n{m.group(3)}"


def update_readme(readme: Path, contents: dict[str, str]) -> bool:
    """Replace each named block; True if the README changed."""
    text = original = readme.read_text(encoding="utf-8")
    for name, block in contents.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise InputError(f"{readme} has no {name} markers")
        text = pattern.sub(_replacer(block), text)
    if text != original:
        readme.write_text(text, encoding="utf-8")
    return text != original


def readme_blocks(readme: Path) -> dict[str, str]:
    text = readme.read_text(encoding="utf-8")
    out = {}
    for name in BLOCKS:
        match = _pattern(name).search(text)
        if match is None:
            raise InputError(f"{readme} has no {name} markers")
        out[name] = match.group(2)
    return out


def execute_notebooks(folder: Path) -> list[Path]:
    """Run every notebook top to bottom and save it with its outputs (needs the dev extra)."""
    import nbformat
    from nbclient import NotebookClient

    done = []
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        ).execute()
        nbformat.write(notebook, path)
        done.append(path)
    return done
