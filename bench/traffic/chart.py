"""The chart of a per-prefix decision: each prefix's cheapest polling and cheapest event option that
meet the requirements (bill and its range), and its arrivals per UTC hour."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bench.traffic.fleet import PrefixDecision

MAX_PREFIXES = 20  # the chart shows the top of the ranking; the table and JSON have them all


def fleet_chart(decisions: Sequence[PrefixDecision], path: Path) -> Path:
    shown = list(decisions[:MAX_PREFIXES])
    fig, (bills, hours) = plt.subplots(1, 2, figsize=(13, 1.5 + 0.45 * max(4, len(shown))))
    y = np.arange(len(shown))
    for offset, side, colour in ((-0.2, "polling", "tab:orange"), (0.2, "events", "tab:blue")):
        options = [d.best_polling if side == "polling" else d.best_events for d in shown]
        points = [o.monthly_point if o else np.nan for o in options]
        low = [o.monthly_point - o.monthly_low if o else 0.0 for o in options]
        high = [o.monthly_high - o.monthly_point if o else 0.0 for o in options]
        bills.barh(y + offset, points, height=0.38, color=colour, xerr=[low, high], label=f"cheapest {side}")
        for i, o in enumerate(options):
            if o is None:
                bills.text(
                    0, y[i] + offset, "  cannot meet the requirements", va="center", fontsize=7, color="grey"
                )
    names = [d.profile.name for d in shown]
    bills.set_yticks(y, names)
    bills.set_ylim(len(shown) - 0.5, -0.5)  # top to bottom; a missing bar's note stays inside
    bills.set_xlabel("USD a month (bar: point; whisker: range over the assumptions)")
    bills.set_title("Cheapest option meeting the requirements, per prefix", fontsize=10)
    bills.legend(fontsize=8)
    for d in shown[:6]:
        hours.plot(range(24), d.profile.hourly, marker=".", label=d.profile.name)
    hours.set_xlabel("UTC hour of day")
    hours.set_ylabel("files per hour (mean over the days observed)")
    hours.set_title("Arrivals per hour (top of the ranking)", fontsize=10)
    hours.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
