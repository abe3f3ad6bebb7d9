"""The benchmark: scenarios -> workloads -> strategies -> records -> cost -> charts.

``bench`` composes ``pollers`` and ``event_handlers``; neither of them imports it. What notebooks
and users call is exported here, loaded on first use so that ``import bench`` stays cheap:

>>> import bench
>>> scenario = bench.load_scenario("quickstart")              # doctest: +SKIP
>>> summary = bench.run_scenario(scenario, "out/")             # doctest: +SKIP
>>> results = bench.read_results("out/")                       # doctest: +SKIP

The stages behind it (``bench.scenario``, ``bench.live``, ``bench.simulate``, ``bench.results``,
``bench.cost``, ``bench.report``) are importable too, but only the names below are promised.
"""

from __future__ import annotations

from importlib import import_module, metadata
from typing import Any

try:
    __version__ = metadata.version("poll-vs-events")  # the one version source: pyproject.toml
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # scenarios
    "load_scenario": "bench.scenario.spec",
    "parse_scenario": "bench.scenario.spec",
    "bundled_scenarios": "bench.scenario.spec",
    "Scenario": "bench.scenario.spec",
    "ScenarioError": "bench.scenario.spec",
    "Kind": "bench.scenario.kinds",
    # run it live, or simulate it
    "run_scenario": "bench.live.runner",
    "simulate_scenario": "bench.simulate.runner",
    "SimulationOptions": "bench.simulate.runner",
    "parse_retention": "bench.scenario.retention",
    # a route's delivery delays from a latency profile (convolved legs, the tail included)
    "load_profile": "event_handlers.runtime.latency",
    "route_delays": "event_handlers.runtime.latency",
    "route_quantiles": "event_handlers.runtime.latency",
    # read results back, compare, draw
    "read_results": "bench.results.files",
    "Results": "bench.results.files",
    "ResultsError": "bench.results.files",
    "Run": "bench.results.model",
    "StrategyResult": "bench.results.model",
    "compare_results": "bench.results.compare",
    "summary_table": "bench.report.table",
    "draw_charts": "bench.report.draw",
    "charts": "bench.report.charts",
    # price
    "load_pricing": "bench.cost.model",
    "lambda_cost": "bench.cost.model",
    "monthly_cost": "bench.cost.model",
    "files_per_month": "bench.cost.model",
    "break_even": "bench.cost.model",
    "Deployment": "bench.cost.model",
    "standard_deployments": "bench.cost.model",
    "required_deployments": "bench.cost.fair",  # every option built to a Requirements
    "cost_table": "bench.cost.sweep",
    "check_feasibility": "bench.cost.feasibility",
    "run_cost": "bench.cost.run",
    "write_sweep": "bench.report.cost_sweep",
    "Ranges": "bench.report.cost_sweep",  # what a sweep's ranges run over (pve cost --sweep's)
    "load_assumptions": "bench.cost.assumptions",
    "requirement_assumptions": "bench.cost.fair",
    "lambda_duration_s": "bench.cost.work",
    "break_even_range": "bench.cost.sensitivity",
    "two_sig": "bench.cost.sensitivity",
    # size: servers for a rate, and whether they keep up
    "sqs_mapping_load": "bench.cost.scaling",
    "poll_sizing": "bench.cost.scaling",
    "stability": "bench.cost.scaling",
    # errors
    "InputError": "bench.errors",
    # decide on your own numbers (notebook 05)
    "decide_for": "bench.decide.api",
    "decide_workload": "bench.decide.api",
    "display_label": "bench.decide.rank",  # an option's name as a table prints it under Requirements
    "Requirements": "bench.requirements",
    "RequirementsError": "bench.requirements",
    "Decision": "bench.decide.rank",
    "Workload": "bench.decide.rank",
    "decide_chart": "bench.decide.chart",
    "decision_table": "bench.decide.table",
    "draw_architectures": "bench.report.diagrams",
    # your own traffic: read it, profile it per prefix, decide per prefix (issue 27)
    "read_traffic": "bench.traffic.sources",
    "profile_traffic": "bench.traffic.profile",
    "Grouping": "bench.traffic.profile",
    "TrafficError": "bench.traffic.model",
    "decide_prefixes": "bench.traffic.fleet",
    "DecideSettings": "bench.traffic.fleet",
    "PrefixDecision": "bench.traffic.fleet",
    "fleet_chart": "bench.traffic.chart",
    "generate_access_log": "bench.traffic.synthetic",  # labelled generated: notebook 07, tests
    # wire it up: notifications, permissions, queue policy (notebook 06)
    "KeyFilter": "event_handlers.filters",
    "NotificationRule": "event_handlers.trigger",
    "OverlappingRulesError": "event_handlers.trigger",
    "bucket_arn": "event_handlers.trigger",
    "build_notification_configuration": "event_handlers.trigger",
    "configure_notifications": "event_handlers.trigger",
    "configure_s3_lambda_trigger": "event_handlers.trigger",
    "allow_s3_to_invoke_lambda": "event_handlers.trigger",
    "allow_s3_to_send_to_queue": "event_handlers.trigger",
    "FunctionGrants": "event_handlers.permissions",
    "function_policy": "event_handlers.permissions",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bench' has no attribute {name!r}")
    imported = import_module(module)
    value = imported if name == "charts" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
