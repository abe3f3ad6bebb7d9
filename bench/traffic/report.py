"""A report for a design doc (Markdown or self-contained HTML): the question, the requirements, the
ranked per-prefix table with ranges, the chart, what would flip each answer, the assumptions and
prices with their sources and dates, and the exact command that reproduces it."""

from __future__ import annotations

import base64
import html
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.atomic import write_text_atomically
from bench.cost.assumptions import load_assumptions
from bench.cost.model import load_pricing
from bench.cost.sensitivity import two_sig
from bench.decide.rank import LATENCY_METHOD, RANKING_RULE
from bench.traffic.fleet import DecideSettings, PrefixDecision, summary_line
from bench.traffic.model import ReadNotes

FLIPS_SHOWN = 10  # prefixes whose "what would flip it" is spelled out (the JSON has every one)


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # header row first
    bullets: tuple[str, ...] = ()
    image: Path | None = None
    code: str | None = None


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def _requirements(settings: DecideSettings) -> tuple[str, ...]:
    from bench.decide.rank import Workload

    w = Workload(1.0, **settings.workload)  # the requirements as every prefix's workload states them
    memory = f"Lambda {w.memory_mb} MB" if w.memory_mb else "Lambda memory searched"
    interval = f"poll interval {w.interval_s:g} s" if w.interval_s else "poll interval searched"
    return (
        f"{w.req.describe()} (the same for polling and events)",
        f"work per file: {w.cpu_s:g} s CPU at one vCPU + {w.wait_s:g} s waiting; {memory} {w.arch}; "
        + interval,
        "file size: each prefix's mean recorded size (the --file-size-mb flag where the source has none)",
        f"latency profile '{settings.latency_profile}'; {settings.samples} joint draws, seed {settings.seed}",
    )


def _ranked(decisions: Sequence[PrefixDecision]) -> tuple[tuple[str, ...], ...]:
    rows: list[tuple[str, ...]] = [
        ("prefix", "files/day", "busiest minute", "dispersion", "verdict", "recommended", "$/month (range)",
         "p95 s", "saving $/month"),
    ]  # fmt: skip
    for d in decisions:
        p, best = d.profile, d.recommended
        rows.append(
            (
                f"{p.bucket}/{p.prefix}" if p.bucket else p.name,
                f"{p.files_per_day:,.0f}",
                f"{p.busiest_minute[1]:,} ({p.peak_files_per_day:,.0f}/day)",
                f"{p.dispersion:,.1f}",
                d.verdict,
                best.name if best else "-",
                f"{two_sig(best.monthly_point)} ({two_sig(best.monthly_low)}-{two_sig(best.monthly_high)})"
                if best
                else "-",
                two_sig(best.latency.p95) if best else "-",
                "-" if d.saving is None else f"{d.saving:+,.2f}",
            )
        )
    return tuple(rows)


def _flips(decisions: Sequence[PrefixDecision]) -> tuple[str, ...]:
    out = []
    for d in decisions[:FLIPS_SHOWN]:
        changes = "; ".join(d.decision.overturned_by) or "nothing within the assumptions' ranges"
        out.append(f"{d.profile.name}: {d.decision.why}. Would change: {changes}")
    if len(decisions) > FLIPS_SHOWN:
        out.append(f"... and {len(decisions) - FLIPS_SHOWN} more prefixes (see the JSON)")
    return tuple(out)


def _sources(settings: DecideSettings) -> tuple[tuple[str, ...], ...]:
    pricing = load_pricing(settings.pricing)
    rows: list[tuple[str, ...]] = [("price or assumption", "value", "source", "as of")]
    for name, price in sorted(pricing.prices.items()):
        rows.append((name, f"${price.usd:g} per {price.per:g} {price.unit}", price.source, price.as_of))
    assumptions = load_assumptions(settings.assumptions)
    for name, item in sorted(assumptions.items.items()):
        d = item.as_dict()
        span = d.get("values") or f"{d.get('low')}-{d.get('high')}"
        rows.append((name, f"{d['point']} {d['unit']} (range {span}) [assumption]", str(d["source"]), "-"))
    for name, limit in sorted(assumptions.limits.items()):
        rows.append((name, f"{limit.value} [limit]", limit.source, "-"))
    return tuple(rows)


def sections(
    decisions: Sequence[PrefixDecision], notes: ReadNotes, settings: DecideSettings, chart: Path, command: str
) -> list[Section]:
    first = decisions[0].profile if decisions else None
    window = "-"
    if first is not None:
        end = first.window_start + first.window_s
        rated = "" if first.window_days >= 1 else ", rated as one day"
        window = f"{_when(first.window_start)} to {_when(end)} ({first.window_days:,.2f} days{rated})"
    files = ", ".join(Path(f).name for f in notes.files)
    return [
        Section(
            "The question",
            (
                f"For each prefix, should new files be found by polling or by S3 events, given the traffic "
                f"recorded in {files} ({window})? Answer: {summary_line(decisions)}.",
            ),
        ),
        Section("Requirements (both sides meet the same ones)", bullets=_requirements(settings)),
        Section(
            "Ranked decisions",
            (
                "Sorted by what events save a month against the cheapest polling option meeting the same "
                "requirements. Feasibility and latency are judged at each prefix's busiest minute (its "
                "files x 1440 as a daily rate); the bill is the observed daily count over a month.",
            ),
            table=_ranked(decisions),
        ),
        Section("Chart", image=chart),
        Section("What would flip the answer", bullets=_flips(decisions)),
        Section(
            "Method",
            bullets=(
                f"latency: {LATENCY_METHOD}",
                f"ranking: {RANKING_RULE}",
                "caveat: pve decide judges every limit at one rate; at the busiest minute that rate also "
                "scales the listing a poller makes (files kept x retention), so a poller's listing is "
                "overstated for a bursty prefix (the 'objects' of `pve traffic` is the observed count)",
                "traffic read: " + "; ".join(notes.lines()),
            ),
        ),
        Section("Prices, assumptions and limits, with their sources", table=_sources(settings)),
        Section("Reproduce", code=command),
    ]


def _markdown(parts: Sequence[Section], where: Path) -> str:
    out = ["# Poll or events, per prefix, from your own traffic", ""]
    for s in parts:
        out += [f"## {s.title}", ""]
        out += [p + "\n" for p in s.paragraphs]
        out += [f"- {b}" for b in s.bullets] + ([""] if s.bullets else [])
        if s.table:
            cells = [[c.replace("|", "\\|") for c in row] for row in s.table]
            out.append("| " + " | ".join(cells[0]) + " |")
            out.append("|" + "---|" * len(cells[0]))
            out += ["| " + " | ".join(row) + " |" for row in cells[1:]]
            out.append("")
        if s.image is not None:
            out += [f"![{s.title}]({os.path.relpath(s.image, where)})", ""]
        if s.code is not None:
            out += ["```", s.code, "```", ""]
    return "\n".join(out)


def _html(parts: Sequence[Section]) -> str:
    e = html.escape
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Poll or events, per prefix</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>",
        "<h1>Poll or events, per prefix, from your own traffic</h1>",
    ]
    for s in parts:
        out.append(f"<h2>{e(s.title)}</h2>")
        out += [f"<p>{e(p)}</p>" for p in s.paragraphs]
        if s.bullets:
            out.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in s.bullets) + "</ul>")
        if s.table:
            head = "".join(f"<th>{e(c)}</th>" for c in s.table[0])
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in s.table[1:])
            out.append(f"<table><tr>{head}</tr>{body}</table>")
        if s.image is not None:  # embedded: the page travels alone
            data = base64.b64encode(s.image.read_bytes()).decode()
            kind = "svg+xml" if s.image.suffix == ".svg" else "png"
            out.append(
                f"<img alt='{e(s.title)}' style='max-width:100%' src='data:image/{kind};base64,{data}'>"
            )
        if s.code is not None:
            out.append(f"<pre><code>{e(s.code)}</code></pre>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(
    path: Path,
    decisions: Sequence[PrefixDecision],
    notes: ReadNotes,
    settings: DecideSettings,
    chart: Path,
    command: str,
) -> Path:
    parts = sections(decisions, notes, settings, chart, command)
    text = _html(parts) if path.suffix.lower() == ".html" else _markdown(parts, path.parent)
    write_text_atomically(path, text + "\n")
    return path
