"""Like for like: every deployment option built to the same :class:`bench.Requirements`, so each
is priced with what meeting them costs (issue 21).

``requirement_deployment`` turns a requirement into each kind's bill lines (a ledger on every
option, an inbox's archive COPY when inputs are kept, S3 storage of what stays, a second instance
in another Availability Zone, the network the poller's subnet needs, KMS requests); ``choice_items``
makes the choices a user left to the defaults into discrete assumptions, so the ranges sweep them
alongside the parameters and ``flips_on`` can name them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.cost.assumptions import Assumption, Assumptions, Value
from bench.cost.deployments import row
from bench.cost.model import Deployment, inbox_label, standard_deployments
from bench.requirements import CHOICES, Requirements

CHOICE_SOURCE = "A requirement left to its default: the range tries every alternative (pin it to hold it)"


def requirement_deployment(
    d: Deployment,
    req: Requirements,
    *,
    file_size_mb: float,
    peak_factor: float = 1.0,
    ledger_ttl_days: float = 1.0,
) -> Deployment:
    """``d`` delivering ``req``: the same guarantees whatever the kind."""
    keep = req.keeps_inputs
    fields: dict[str, object] = {
        "idempotency_ledger": req.exactly_once,
        "ledger_ttl_days": ledger_ttl_days,
        "encryption": req.encryption,
        "log_bytes_per_file": req.log_bytes_per_file,
        "file_size_mb": file_size_mb,
        "s3_storage": True,
        "retention_days": req.keep_days if keep else 0.0,
        "peak_factor": peak_factor,
    }
    if not row(d.kind).on_lambda:  # a fleet of instances
        fields.update(azs=req.azs, network=req.network, instance="auto")
    if d.poll.cursor == "inbox":
        fields["archive_processed"] = keep  # kept inputs leave the inbox by COPY to an archive prefix
        if d.name == inbox_label(d.poll.interval_s, archive=False):  # the standard name says what it does
            fields["name"] = inbox_label(d.poll.interval_s, archive=keep)
    fields["delete_inputs"] = not keep  # every option deletes what it processed (an event route too)
    return d.with_(**fields)


def required_deployments(
    requirements: Requirements | None = None,
    *,
    file_size_mb: float = 0.1,
    peak_factor: float = 1.0,
    ledger_ttl_days: float | None = None,
    ebs_root_gb: float = 8.0,
    assumptions: Assumptions | None = None,
    at_points: bool = True,
    **knobs: Any,
) -> list[Deployment]:
    """Every option ``pve decide`` and ``pve cost`` compare, each built to ``requirements`` (the
    defaults: ``Requirements()``) with the assumptions' points (``assumptions``: the bundled file
    by default), as ``pve cost`` prices them - the one public way to get them with their
    requirement lines (``bench.required_deployments``). ``knobs`` go to
    :func:`standard_deployments` (``interval_s``, ``memory_mb``, ``arch``, ``cpu_s``, ``wait_s``,
    ``retention``); inputs are kept for the requirements' ``keep_days``. ``at_points=False``
    leaves the points to the caller (``pve decide`` applies its own)."""
    from bench.cost.assumptions import load_assumptions
    from bench.cost.sensitivity import apply, points

    req = requirements or Requirements()
    a = assumptions or load_assumptions()
    ttl = float(a.defaults.get("ledger_ttl_days", 1.0)) if ledger_ttl_days is None else ledger_ttl_days
    built = [
        requirement_deployment(
            d.with_(ebs_root_gb=ebs_root_gb),
            req,
            file_size_mb=file_size_mb,
            peak_factor=peak_factor,
            ledger_ttl_days=ttl,
        )
        for d in standard_deployments(retention_days=req.keep_days, **knobs)
    ]
    if not at_points:
        return built
    first = built[0]
    own: dict[str, Value] = {
        "cpu_s": first.cpu_s,
        "wait_s": first.wait_s,
        "memory_mb": float(first.memory_mb),
        "arch": first.arch,
        "retention": str(first.retention),
    }
    values = points(requirement_assumptions(a.with_points(own), req))
    return [apply(d, values) for d in built]


def _as_value(v: object) -> str:
    return ("on" if v else "off") if isinstance(v, bool) else str(v)


def choice_items(req: Requirements) -> dict[str, Assumption]:
    """The unpinned choices as discrete assumptions (point: the default in force)."""
    return {
        name: Assumption(
            name,
            _as_value(getattr(req, name)),
            _as_value(values[0]),
            _as_value(values[-1]),
            "requirement choice",
            "choice",
            CHOICE_SOURCE,
            tuple(_as_value(v) for v in values),
        )
        for name, values in req.unpinned_choices().items()
    }


def requirement_assumptions(a: Assumptions, req: Requirements) -> Assumptions:
    """The assumptions a decision sweeps under ``req``: its unpinned choices added; what inputs
    kept or deleted leave nothing to sweep held at the point (retention)."""
    out = a.with_items(choice_items(req))
    held = []
    if not req.keeps_inputs:
        held += ["retention_days", "retention"]
    elif "keep_days" in req.pinned:
        held.append("retention_days")
    held = [n for n in held if n in out.items]
    if "retention_days" in out.items:
        out = out.with_points({"retention_days": req.keep_days if req.keeps_inputs else 0.0})
    return out.fixed(held)


# How each choice lands on a deployment: the fields it sets (next to the parameters' table in
# bench.cost.sensitivity).
CHOICE_FIELDS: dict[str, Callable[[Value], dict[str, Any]]] = {
    "inputs": lambda v: {"delete_inputs": v == "delete", "archive_processed": v == "keep"},
    "availability": lambda v: {"azs": 2 if v == "multi-az" else 1},
    "network": lambda v: {"network": str(v)},
    "encryption": lambda v: {"encryption": str(v)},
    "exactly_once": lambda v: {"idempotency_ledger": v == "on"},
}
assert set(CHOICE_FIELDS) == set(CHOICES)
