"""``pve decide``: every deployment option for one workload, ranked, with the assumptions that
would overturn the ranking. Sits on the cost stage (bills, ranges, feasibility) and the latency
profiles of ``event_handlers``."""

from bench.decide.rank import Decision, OptionResult, Workload, decide

__all__ = ["Decision", "OptionResult", "Workload", "decide"]
