"""Power at the wall of a cluster (idle and inference load) and its energy cost per year.

Idle and load watts of every unit, GPU host and switch (catalog figures). Cables are
passive DACs (<= 0.1 W, facts §2.11) and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sizing.topology import Topology, topology

if TYPE_CHECKING:
    from sizing.catalog import Catalog, Platform

DAYS_PER_YEAR = 365


def power_w(catalog: Catalog, p: Platform, topo: Topology) -> tuple[float, float]:
    """(idle W, load W) of the units, GPU hosts and switches of `topo`."""
    idle = topo.units * p.power.idle_w
    load = topo.units * p.power.load_w
    if p.host is not None:
        idle += topo.hosts * p.host.power_idle_w
        load += topo.hosts * p.host.power_load_w
    for sid, n in topo.switches.items():
        sw = catalog.switch(sid)
        idle += n * sw.power_idle_w
        load += n * sw.power_max_w
    return idle, load


def cluster_power(
    catalog: Catalog, platform_id: str, units: int, *, design: str | None = None
) -> tuple[float, float]:
    """(idle W, inference-load W) at the wall for the whole cluster.

    Units use the catalog's `power.idle_w` / `power.load_w`; GPU hosts add
    `host.power_idle_w` / `host.power_load_w` each; switches add `power_idle_w` at idle
    and their rated `power_max_w` under load (an upper bound: passive DACs draw <= 0.1 W
    and decode traffic is light). Passive cables are ignored.
    """
    p = catalog.platform(platform_id)
    return power_w(catalog, p, topology(catalog, platform_id, units, design=design))


def energy_chf_per_year(
    *, idle_w: float, load_w: float, hours_at_load_per_day: float, rappen_per_kwh: float
) -> float:
    """CHF per year: (load_w x h + idle_w x (24 - h)) x 365 / 1000 kWh x Rp/kWh / 100.

    Example (facts §2.12): 100 W around the clock at 27.7 Rp/kWh = 876 kWh = CHF 242.65.
    """
    if not 0 <= hours_at_load_per_day <= 24:
        raise ValueError(f"hours at load per day must be within 0-24 (got {hours_at_load_per_day})")
    if idle_w < 0 or load_w < 0 or rappen_per_kwh < 0:
        raise ValueError("power and tariff must be non-negative")
    wh_per_day = load_w * hours_at_load_per_day + idle_w * (24 - hours_at_load_per_day)
    return wh_per_day * DAYS_PER_YEAR / 1000 * rappen_per_kwh / 100


@dataclass(frozen=True)
class RunningCost:
    """The terms of the running cost of a comparison or a plan: the tariff (Rp/kWh), the
    hours at load per day (the rest idle) and the years of the total cost of ownership."""

    tariff_id: str
    rappen_per_kwh: float
    hours_at_load_per_day: float
    years: float

    def energy_chf_per_year(self, *, idle_w: float, load_w: float) -> float:
        """CHF per year of a cluster drawing `idle_w` / `load_w` (`energy_chf_per_year`)."""
        return energy_chf_per_year(
            idle_w=idle_w,
            load_w=load_w,
            hours_at_load_per_day=self.hours_at_load_per_day,
            rappen_per_kwh=self.rappen_per_kwh,
        )

    def tco_chf(self, price_chf: float, energy_chf_per_year: float) -> float:
        """Total cost of ownership: price + `years` x energy per year (CHF)."""
        return price_chf + self.years * energy_chf_per_year


def running_cost(
    catalog: Catalog, tariff: str | None = None, hours_at_load_per_day: float | None = None
) -> RunningCost:
    """The running-cost terms, each defaulting to the catalog's ``defaults`` (tariff, hours
    at load per day; the TCO years are always ``defaults.years_tco``). Raises
    UnknownIdError for an unknown tariff."""
    t = catalog.tariff(tariff or catalog.defaults.tariff)
    hours = (
        catalog.defaults.hours_at_load_per_day
        if hours_at_load_per_day is None
        else hours_at_load_per_day
    )
    return RunningCost(t.id, t.rappen_per_kwh, hours, catalog.defaults.years_tco)


__all__ = [
    "DAYS_PER_YEAR",
    "RunningCost",
    "cluster_power",
    "energy_chf_per_year",
    "power_w",
    "running_cost",
]
