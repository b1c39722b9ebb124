"""Cost per million tokens, break-even against cloud APIs, agent sessions and SSD storage.

Pure computation (no Streamlit, no pricing): the CLI (`python -m sizing cost`, `agent`) and
the app's Cost page compose it with an estimate (`sizing.estimate`) and a bill of
materials (`sizing.bom`).

Cost model (every assumption is returned in words by the callers):

* The machine runs ``hours_per_day`` at load and idles the rest of the day; energy is
  ``sizing.power.energy_chf_per_year`` (load W x h + idle W x (24 - h), at the tariff).
* Depreciation: the hardware's CHF price (the bill of materials, switches and cables
  included) spread evenly over ``life_years`` (straight line, no resale value, no
  interest).
* Throughput at load: the engine alternates prefill and decode (no overlap: chunked
  prefill overlaps some of it, so this is conservative). With ``input_share`` s of all
  tokens being input (prompt) tokens there are r = s / (1 - s) input tokens per output
  token, and one output token costs ``1 / decode_tok_s_total + r / prefill_tok_s`` seconds.
* The day's cost is split between input and output tokens by the share of load time each
  phase takes (idle energy and depreciation follow the same split).

Break-even: ``hardware CHF / (monthly cloud cost of the same tokens - monthly energy
cost)``; None ("never") when the cloud bill does not exceed the energy bill.

Units are in the names: ``_chf``, ``_usd``, ``_w``, ``_kwh``, ``_s``, ``_gb`` (1e9 bytes),
``_mtok`` (1e6 tokens).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sizing.catalog import ROOT, read_yaml_file
from sizing.money import chf
from sizing.power import DAYS_PER_YEAR, energy_chf_per_year
from sizing.throughput import decode_at, prefill_s

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sizing.catalog import Catalog
    from sizing.scenario import Resolved

DEFAULT_CLOUD_PRICES_PATH = ROOT / "data" / "cloud_prices.yaml"
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR
SECONDS_PER_HOUR = 3600
TOKENS_PER_MTOK = 1e6
DEFAULT_LIFE_YEARS = 3.0  # ASSUMPTION, the catalog's defaults.years_tco
DEFAULT_INPUT_SHARE = 0.75  # ASSUMPTION: 3 prompt tokens per generated token
INPUT_SHARE_MAX = 0.99


# ----------------------------------------------------------------------------- cloud prices
class CloudPriceError(ValueError):
    """The cloud price file is invalid; one line naming the file, the entry and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _not_future(value: date) -> date:
    if value > date.today():
        raise ValueError(f"{value.isoformat()} is in the future")
    return value


NonNeg = Annotated[float, Field(ge=0, le=1e6)]


class UsdChf(_Strict):
    """A dated USD -> CHF conversion rate (CHF per USD)."""

    rate: Annotated[float, Field(gt=0, le=100)]
    date: date
    note: str
    source: str = Field(min_length=1)

    check_date = field_validator("date")(_not_future)


class CloudPrice(_Strict):
    """One provider's price of one open model, USD per million tokens, dated and sourced."""

    model: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    input_usd_per_mtok: NonNeg
    output_usd_per_mtok: NonNeg
    cached_input_usd_per_mtok: NonNeg | None = None
    date: dt.date
    page_date: dt.date | None = None
    url: str = Field(pattern=r"^https?://\S+$")
    source: str = Field(pattern=r"^https?://\S+$")
    note: str = ""

    @field_validator("date", "page_date")
    @classmethod
    def _not_in_future(cls, value: dt.date | None) -> dt.date | None:
        return value if value is None else _not_future(value)

    @property
    def id(self) -> str:
        return f"{self.model} @ {self.provider}"


class CloudPrices(_Strict):
    schema_version: int = Field(ge=1, le=1)
    usd_chf: UsdChf
    prices: list[CloudPrice]

    def for_model(self, model_id: str) -> list[CloudPrice]:
        """The entries of `model_id` (case-insensitive), cheapest output first."""
        own = [p for p in self.prices if p.model.lower() == model_id.lower()]
        return sorted(own, key=lambda p: (p.output_usd_per_mtok, p.input_usd_per_mtok))


def parse_cloud_prices(data: Any, *, filename: str = "cloud_prices.yaml") -> CloudPrices:
    """Validate loaded YAML; raise CloudPriceError naming the file, entry and field."""
    if not isinstance(data, dict):
        raise CloudPriceError(f"{filename}: top level must be a mapping")
    try:
        return CloudPrices.model_validate(data)
    except ValidationError as exc:
        messages = []
        for err in exc.errors():
            parts: list[str] = []
            for key in err["loc"]:
                if isinstance(key, int) and parts and parts[-1] == "prices":
                    entries = data.get("prices") or []
                    entry = entries[key] if key < len(entries) else None
                    label = entry.get("model") if isinstance(entry, dict) else None
                    parts[-1] = f"prices[{label or key}]"
                else:
                    parts.append(str(key))
            msg = err["msg"].removeprefix("Value error, ")
            messages.append(f"{filename}: {'.'.join(parts)}: {msg}")
        raise CloudPriceError("; ".join(messages)) from None


def load_cloud_prices(path: str | Path | None = None) -> CloudPrices:
    """Load and validate a cloud price file (default: data/cloud_prices.yaml)."""
    path = Path(path) if path is not None else DEFAULT_CLOUD_PRICES_PATH
    return parse_cloud_prices(read_yaml_file(path, CloudPriceError), filename=path.name)


def usd_to_chf(amount_usd: float, *, chf_per_usd: float) -> float:
    """CHF of `amount_usd` at `chf_per_usd` (CHF per 1 USD)."""
    return amount_usd * chf_per_usd


def cloud_prices_with(
    base: CloudPrices, rows: Sequence[dict[str, Any]], *, filename: str = "the edited price table"
) -> CloudPrices:
    """`base` with its price entries replaced by `rows` (an edited table: the app lets the
    user change, add and delete prices for the session), validated like the file."""
    data = base.model_dump(mode="json")
    clean = [{k: v for k, v in row.items() if v is not None and v == v and v != ""} for row in rows]
    data["prices"] = clean
    return parse_cloud_prices(data, filename=filename)


def parse_checkpoints(text: str) -> list[tuple[str, str]]:
    """``"MODEL:QUANT,MODEL:QUANT"`` -> [(model, quant), ...]; ValueError (one line) for an
    entry without both parts or an empty list."""
    out = []
    for entry in (x.strip() for x in text.split(",")):
        if not entry:
            continue
        model, sep, quant = entry.rpartition(":")
        if not sep or not model.strip() or not quant.strip():
            raise ValueError(f"checkpoints must be MODEL:QUANT (got {entry[:80]!r})")
        out.append((model.strip(), quant.strip()))
    if not out:
        raise ValueError("no checkpoint given; write MODEL:QUANT,...")
    return out


# ----------------------------------------------------------------------------- local cost
def input_tokens_per_output_token(input_share: float) -> float:
    """r = s / (1 - s): input tokens per output token when `input_share` s of all tokens
    are input. 0.75 -> 3.0; 0 -> 0."""
    if not 0 <= input_share <= INPUT_SHARE_MAX:
        raise ValueError(f"input share must be within 0-{INPUT_SHARE_MAX:g} (got {input_share})")
    return input_share / (1.0 - input_share)


def seconds_per_output_token(
    *, decode_tok_s_total: float, prefill_tok_s: float, input_share: float
) -> tuple[float, float]:
    """(decode s, prefill s) of machine time per output token at load: one decode step's
    share (1 / aggregate decode tok/s) and the prefill of its r input tokens."""
    if decode_tok_s_total <= 0 or prefill_tok_s <= 0:
        raise ValueError("decode and prefill speeds must be positive (does the model fit?)")
    r = input_tokens_per_output_token(input_share)
    return 1.0 / decode_tok_s_total, r / prefill_tok_s


def output_tokens_per_day(
    *, decode_tok_s_total: float, prefill_tok_s: float, input_share: float, hours_per_day: float
) -> float:
    """Output tokens generated in `hours_per_day` at load (prefill and decode alternate)."""
    decode_s, prefill_s = seconds_per_output_token(
        decode_tok_s_total=decode_tok_s_total, prefill_tok_s=prefill_tok_s, input_share=input_share
    )
    return hours_per_day * SECONDS_PER_HOUR / (decode_s + prefill_s)


def depreciation_chf_per_day(*, hardware_chf: float, life_years: float) -> float:
    """Straight-line depreciation: hardware CHF / (life years x 365 days)."""
    if life_years <= 0:
        raise ValueError(f"life must be positive (got {life_years} years)")
    if hardware_chf < 0:
        raise ValueError(f"hardware price must be non-negative (got {hardware_chf})")
    return hardware_chf / (life_years * DAYS_PER_YEAR)


def energy_chf_per_day(
    *, power_w_load: float, power_w_idle: float, hours_per_day: float, rappen_per_kwh: float
) -> float:
    """Energy CHF per day (``sizing.power.energy_chf_per_year`` / 365)."""
    return (
        energy_chf_per_year(
            idle_w=power_w_idle,
            load_w=power_w_load,
            hours_at_load_per_day=hours_per_day,
            rappen_per_kwh=rappen_per_kwh,
        )
        / DAYS_PER_YEAR
    )


@dataclass(frozen=True, kw_only=True)
class LocalCost:
    """What a day of the usage profile costs locally and what it produces."""

    output_tokens_per_day: float
    input_tokens_per_day: float
    energy_chf_per_day: float
    depreciation_chf_per_day: float
    prefill_time_share: float  # share of load time spent on prefill
    chf_per_mtok_output: float  # cost share of decode time / output tokens
    chf_per_mtok_input: float | None  # cost share of prefill time / input tokens
    chf_per_mtok_output_all_in: float  # the whole day's cost / output tokens

    @property
    def chf_per_day(self) -> float:
        return self.energy_chf_per_day + self.depreciation_chf_per_day


def local_cost(
    *,
    hardware_chf: float,
    life_years: float,
    power_w_load: float,
    power_w_idle: float,
    rappen_per_kwh: float,
    hours_per_day: float,
    decode_tok_s_total: float,
    prefill_tok_s: float,
    input_share: float,
) -> LocalCost:
    """CHF per million output and input tokens at a usage profile (module docstring).

    Raises ValueError for hours_per_day <= 0 (no tokens: the cost per token is undefined).
    """
    if not 0 < hours_per_day <= 24:
        raise ValueError(f"hours of use per day must be within (0, 24] (got {hours_per_day})")
    decode_s, prefill_s = seconds_per_output_token(
        decode_tok_s_total=decode_tok_s_total, prefill_tok_s=prefill_tok_s, input_share=input_share
    )
    out_day = output_tokens_per_day(
        decode_tok_s_total=decode_tok_s_total,
        prefill_tok_s=prefill_tok_s,
        input_share=input_share,
        hours_per_day=hours_per_day,
    )
    in_day = out_day * input_tokens_per_output_token(input_share)
    energy = energy_chf_per_day(
        power_w_load=power_w_load,
        power_w_idle=power_w_idle,
        hours_per_day=hours_per_day,
        rappen_per_kwh=rappen_per_kwh,
    )
    dep = depreciation_chf_per_day(hardware_chf=hardware_chf, life_years=life_years)
    day = energy + dep
    share = prefill_s / (decode_s + prefill_s)
    return LocalCost(
        output_tokens_per_day=out_day,
        input_tokens_per_day=in_day,
        energy_chf_per_day=energy,
        depreciation_chf_per_day=dep,
        prefill_time_share=share,
        chf_per_mtok_output=day * (1 - share) / out_day * TOKENS_PER_MTOK,
        chf_per_mtok_input=(day * share / in_day * TOKENS_PER_MTOK) if in_day > 0 else None,
        chf_per_mtok_output_all_in=day / out_day * TOKENS_PER_MTOK,
    )


# ----------------------------------------------------------------------------- vs the cloud
def cloud_chf_per_month(
    *,
    output_tokens_per_day: float,
    input_tokens_per_day: float,
    input_usd_per_mtok: float,
    output_usd_per_mtok: float,
    chf_per_usd: float,
) -> float:
    """CHF a cloud API charges for a month (365 / 12 days) of the same tokens."""
    usd_per_day = (
        input_tokens_per_day * input_usd_per_mtok + output_tokens_per_day * output_usd_per_mtok
    ) / TOKENS_PER_MTOK
    return usd_to_chf(usd_per_day, chf_per_usd=chf_per_usd) * DAYS_PER_MONTH


def break_even_months(
    *, hardware_chf: float, cloud_chf_per_month: float, energy_chf_per_month: float
) -> float | None:
    """Months until the hardware has paid for itself: hardware CHF / (monthly cloud cost -
    monthly energy cost). None ("never") when the saving per month is not positive (or so
    small that the months overflow); 0 for free hardware that saves money."""
    saving = cloud_chf_per_month - energy_chf_per_month
    if saving <= 0:
        return None
    months = hardware_chf / saving
    return months if math.isfinite(months) else None  # a saving too small to ever count


def cumulative_cost_chf(
    *, months: Sequence[float], upfront_chf: float, chf_per_month: float
) -> list[float]:
    """upfront + CHF per month x m for each m of `months` (the break-even chart's lines)."""
    return [upfront_chf + chf_per_month * m for m in months]


def chart_months(
    *, life_years: float, break_even: float | None, cap_months: int = 120
) -> list[int]:
    """0 .. max(life, 1.25 x break-even), at most `cap_months`."""
    end = life_years * MONTHS_PER_YEAR
    if break_even is not None:
        end = max(end, 1.25 * break_even)
    return list(range(0, int(min(cap_months, math.ceil(end))) + 1))


@dataclass(frozen=True, kw_only=True)
class CloudComparison:
    price: CloudPrice
    cloud_chf_per_mtok_input: float
    cloud_chf_per_mtok_output: float
    cloud_chf_per_month: float
    local_energy_chf_per_month: float
    break_even_months: float | None
    pays_back_within_life: bool


def compare_with_cloud(
    cost: LocalCost,
    price: CloudPrice,
    *,
    hardware_chf: float,
    life_years: float,
    chf_per_usd: float,
) -> CloudComparison:
    """Monthly cloud bill of the tokens `cost` produces at `price`, and the break-even."""
    cloud_month = cloud_chf_per_month(
        output_tokens_per_day=cost.output_tokens_per_day,
        input_tokens_per_day=cost.input_tokens_per_day,
        input_usd_per_mtok=price.input_usd_per_mtok,
        output_usd_per_mtok=price.output_usd_per_mtok,
        chf_per_usd=chf_per_usd,
    )
    energy_month = cost.energy_chf_per_day * DAYS_PER_MONTH
    months = break_even_months(
        hardware_chf=hardware_chf,
        cloud_chf_per_month=cloud_month,
        energy_chf_per_month=energy_month,
    )
    return CloudComparison(
        price=price,
        cloud_chf_per_mtok_input=usd_to_chf(price.input_usd_per_mtok, chf_per_usd=chf_per_usd),
        cloud_chf_per_mtok_output=usd_to_chf(price.output_usd_per_mtok, chf_per_usd=chf_per_usd),
        cloud_chf_per_month=cloud_month,
        local_energy_chf_per_month=energy_month,
        break_even_months=months,
        pays_back_within_life=months is not None and months <= life_years * MONTHS_PER_YEAR,
    )


# ----------------------------------------------------------------------------- agent session
@dataclass(frozen=True, kw_only=True)
class AgentTurn:
    turn: int  # 1-based
    context_tokens: int  # prompt length of this turn
    prefilled_tokens: int  # tokens actually prefilled (new ones with prefix caching)
    prefill_s: float
    decode_s: float

    @property
    def seconds(self) -> float:
        return self.prefill_s + self.decode_s


def agent_session(
    *,
    start_tokens: int,
    tokens_per_turn: int,
    output_tokens_per_turn: int,
    turns: int,
    prefix_caching: bool,
    prefill_s: Callable[[float, float], float],
    decode_tok_s_at: Callable[[float], float],
) -> list[AgentTurn]:
    """Seconds of each turn of an agent session whose context grows every turn.

    Turn i (0-based) sends ``start + i x (tokens_per_turn + output_tokens_per_turn)``
    tokens: the previous prompt, the previous answer and ``tokens_per_turn`` new tokens
    (user message, tool output). With prefix caching only the tokens not yet in the cache
    are prefilled (turn 0: all; later: ``tokens_per_turn``, the previous answer being cached
    as it was generated); without it the whole prompt is prefilled every turn.
    ``prefill_s(new_tokens, depth)`` and ``decode_tok_s_at(context)`` are the planner's
    speed model (``sizing.throughput.prefill_s`` / ``decode_at``); a turn decodes its
    answer at the context in the middle of the answer.
    """
    for name, value in (("start tokens", start_tokens), ("turns", turns)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1 (got {value})")
    if tokens_per_turn < 0 or output_tokens_per_turn < 1:
        raise ValueError("tokens per turn must be >= 0 and output tokens per turn >= 1")
    out: list[AgentTurn] = []
    growth = tokens_per_turn + output_tokens_per_turn
    for i in range(turns):
        context = start_tokens + i * growth
        if prefix_caching and i > 0:
            new, depth = tokens_per_turn, context - tokens_per_turn
        else:
            new, depth = context, 0
        p_s = prefill_s(float(new), float(depth)) if new > 0 else 0.0
        speed = decode_tok_s_at(context + output_tokens_per_turn / 2)
        out.append(
            AgentTurn(
                turn=i + 1,
                context_tokens=context,
                prefilled_tokens=new,
                prefill_s=p_s,
                decode_s=output_tokens_per_turn / speed,
            )
        )
    return out


def final_context_tokens(
    *, start_tokens: int, tokens_per_turn: int, output_tokens_per_turn: int, turns: int
) -> int:
    """Context at the end of the last turn's answer (what the KV cache must hold)."""
    return (
        start_tokens
        + (turns - 1) * (tokens_per_turn + output_tokens_per_turn)
        + output_tokens_per_turn
    )


# ----------------------------------------------------------------------------- reports
def cost_report(
    estimate: dict[str, Any],
    prices: CloudPrices,
    *,
    rappen_per_kwh: float,
    tariff_id: str,
    hours_per_day: float,
    input_share: float,
    life_years: float = DEFAULT_LIFE_YEARS,
    chf_per_usd: float | None = None,
    compare_models: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The cost of one configuration (an ``estimate(...).to_dict()``) at a usage profile,
    against the cloud prices of its own model (or of ``compare_models``): a JSON-ready
    dict (the CLI's ``cost --json``; the app's Cost page formats the same dict).

    Raises ValueError (one line) when the configuration does not fit or has no price.
    """
    if not estimate.get("fits"):
        raise ValueError(f"the configuration does not fit: {estimate.get('reason')}")
    hardware = estimate.get("price_chf")
    if hardware is None:
        missing = ", ".join(estimate.get("unpriced_items") or []) or "a part"
        raise ValueError(
            f"no price known for {missing}: set a manual price (Prices page, "
            "python -m pricing) to compute a cost"
        )
    rate = prices.usd_chf.rate if chf_per_usd is None else chf_per_usd
    cost = local_cost(
        hardware_chf=hardware,
        life_years=life_years,
        power_w_load=estimate["power_w_load"],
        power_w_idle=estimate["power_w_idle"],
        rappen_per_kwh=rappen_per_kwh,
        hours_per_day=hours_per_day,
        decode_tok_s_total=estimate["decode_tok_s_total"],
        prefill_tok_s=estimate["prefill_tok_s"],
        input_share=input_share,
    )
    models = list(compare_models) if compare_models else [estimate["model"]]
    entries = [p for m in models for p in prices.for_model(m)]
    rows = []
    for p in entries:
        c = compare_with_cloud(
            cost, p, hardware_chf=hardware, life_years=life_years, chf_per_usd=rate
        )
        rows.append(
            {
                "model": p.model,
                "provider": p.provider,
                "input_usd_per_mtok": p.input_usd_per_mtok,
                "output_usd_per_mtok": p.output_usd_per_mtok,
                "cloud_chf_per_mtok_input": c.cloud_chf_per_mtok_input,
                "cloud_chf_per_mtok_output": c.cloud_chf_per_mtok_output,
                "cloud_chf_per_month": c.cloud_chf_per_month,
                "break_even_months": c.break_even_months,
                "pays_back_within_life": c.pays_back_within_life,
                "price_date": p.date.isoformat(),
                "page_date": p.page_date.isoformat() if p.page_date else None,
                "url": p.url,
                "source": p.source,
                "note": p.note,
            }
        )
    rows.sort(key=lambda r: (r["break_even_months"] is None, r["break_even_months"] or 0))
    energy_month = cost.energy_chf_per_day * DAYS_PER_MONTH
    r = input_tokens_per_output_token(input_share)
    assumptions = [
        f"{hours_per_day:g} h/day at load ({estimate['concurrency']} concurrent streams, "
        f"{estimate['decode_tok_s_total']:.1f} tok/s decode in total, prefill "
        f"{estimate['prefill_tok_s']:.0f} tok/s at {estimate['context']} tokens of context), "
        "idle the rest of the day",
        f"input share {input_share:.0%} of all tokens = {r:.2f} input tokens per output "
        "token; prefill and decode alternate (no overlap: conservative)",
        f"energy {estimate['power_w_load']:.0f} W at load, {estimate['power_w_idle']:.0f} W "
        f"idle at {rappen_per_kwh:g} Rp/kWh ({tariff_id})",
        f"depreciation: {chf(hardware)} (bill of materials"
        + (
            " — incomplete: " + ", ".join(estimate.get("unpriced_items") or [])
            if estimate.get("price_complete") is False
            else ""
        )
        + f") straight-line over {life_years:g} years, no resale value, no interest "
        "(ASSUMPTION)",
        "cost split between input and output tokens by the share of load time each phase takes",
        f"cloud prices in USD converted at {rate:g} CHF/USD "
        + (
            f"({prices.usd_chf.date.isoformat()}: {prices.usd_chf.note.strip()})"
            if chf_per_usd is None
            else "(given)"
        )
        + "; input at the cache-miss rate (prefix-cache discounts not counted)",
        "break-even = hardware CHF / (cloud CHF per month of the same tokens - energy CHF "
        f"per month); a month = {DAYS_PER_MONTH:.2f} days",
    ]
    if not rows:
        assumptions.append(
            f"no cloud price in the table for {', '.join(models)}; add one "
            "to data/cloud_prices.yaml or pass --cloud-model"
        )
    return {
        "platform": estimate["platform"],
        "units": estimate["units"],
        "parallel": estimate["parallel"],
        "model": estimate["model"],
        "weights": estimate["weights"],
        "engine": estimate["engine"],
        "context": estimate["context"],
        "concurrency": estimate["concurrency"],
        "hours_per_day": hours_per_day,
        "input_share": input_share,
        "life_years": life_years,
        "tariff": tariff_id,
        "rappen_per_kwh": rappen_per_kwh,
        "chf_per_usd": rate,
        "hardware_chf": hardware,
        "price_complete": estimate.get("price_complete", True),
        "unpriced_items": list(estimate.get("unpriced_items") or []),
        "output_tokens_per_day": cost.output_tokens_per_day,
        "input_tokens_per_day": cost.input_tokens_per_day,
        "energy_chf_per_day": cost.energy_chf_per_day,
        "energy_chf_per_month": energy_month,
        "depreciation_chf_per_month": cost.depreciation_chf_per_day * DAYS_PER_MONTH,
        "prefill_time_share": cost.prefill_time_share,
        "chf_per_mtok_output": cost.chf_per_mtok_output,
        "chf_per_mtok_input": cost.chf_per_mtok_input,
        "chf_per_mtok_output_all_in": cost.chf_per_mtok_output_all_in,
        "cloud": rows,
        "assumptions": assumptions,
    }


def cumulative_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Cumulative cost by month, local (hardware + energy) and each cloud row of a
    `cost_report` -- the data of the break-even chart and its export."""
    best = next(
        (r["break_even_months"] for r in report["cloud"] if r["break_even_months"] is not None),
        None,
    )
    months = chart_months(life_years=report["life_years"], break_even=best)
    local = cumulative_cost_chf(
        months=months,
        upfront_chf=report["hardware_chf"],
        chf_per_month=report["energy_chf_per_month"],
    )
    out = [
        {"month": m, "series": "local (hardware + energy)", "cumulative_chf": v}
        for m, v in zip(months, local, strict=True)
    ]
    for row in report["cloud"]:
        cloud = cumulative_cost_chf(
            months=months, upfront_chf=0.0, chf_per_month=row["cloud_chf_per_month"]
        )
        out += [
            {"month": m, "series": f"cloud: {row['provider']}", "cumulative_chf": v}
            for m, v in zip(months, cloud, strict=True)
        ]
    return out


def agent_report(
    resolved: Resolved,
    catalog: Catalog,
    *,
    start_tokens: int,
    tokens_per_turn: int,
    output_tokens_per_turn: int,
    turns: int,
) -> dict[str, Any]:
    """Seconds per turn of an agent session on a resolved scenario, with and without
    prefix caching (the planner's prefill/decode model: ``sizing.throughput``)."""
    batch = max(1, math.ceil(resolved.concurrency / resolved.replicas))

    def prefill(new: float, depth: float) -> float:
        return prefill_s(resolved, catalog, new, depth=depth)

    def decode(context: float) -> float:
        return decode_at(resolved, catalog, batch, context_tokens=context)[0]

    kwargs: dict[str, Any] = {
        "start_tokens": start_tokens,
        "tokens_per_turn": tokens_per_turn,
        "output_tokens_per_turn": output_tokens_per_turn,
        "turns": turns,
        "prefill_s": prefill,
        "decode_tok_s_at": decode,
    }
    cached = agent_session(prefix_caching=True, **kwargs)
    uncached = agent_session(prefix_caching=False, **kwargs)
    rows = [
        {
            "turn": a.turn,
            "context_tokens": a.context_tokens,
            "prefilled_tokens_cached": a.prefilled_tokens,
            "seconds_cached": a.seconds,
            "prefill_s_cached": a.prefill_s,
            "decode_s": a.decode_s,
            "seconds_uncached": b.seconds,
            "prefill_s_uncached": b.prefill_s,
        }
        for a, b in zip(cached, uncached, strict=True)
    ]
    return {
        "turns": rows,
        "total_s_cached": sum(a.seconds for a in cached),
        "total_s_uncached": sum(b.seconds for b in uncached),
        "final_context_tokens": final_context_tokens(
            start_tokens=start_tokens,
            tokens_per_turn=tokens_per_turn,
            output_tokens_per_turn=output_tokens_per_turn,
            turns=turns,
        ),
        "assumptions": [
            f"turn i sends start {start_tokens} + i x ({tokens_per_turn} new + "
            f"{output_tokens_per_turn} answer) tokens; each turn answers "
            f"{output_tokens_per_turn} tokens",
            "prefix caching (vLLM/SGLang automatic prefix caching, llama.cpp's prompt "
            "cache): only the new tokens are prefilled, attending to the cached context; "
            "the previous answer is already cached; assumes nothing is evicted between "
            "turns and the chat template does not rewrite earlier turns (e.g. by dropping "
            "reasoning), which would break the cached prefix",
            f"decode at the turn's context, batch {batch} per model copy "
            f"({resolved.concurrency} concurrent sessions)",
            "no tool execution time: only the model's own time per turn",
        ],
    }


def storage_report(
    catalog: Catalog,
    checkpoints: Sequence[tuple[str, str]],
    *,
    platform_ids: Sequence[str] | None = None,
    os_reserve_gb: float | None = None,
) -> dict[str, Any]:
    """How many of the chosen checkpoints ((model id, quant id) pairs) fit on each
    platform's SSD after an OS reserve: ``sizing.compare.storage_fit`` (the formula of
    ``compare --library``) with the size of each checkpoint and the assumptions."""
    # imported here: sizing.compare builds tables with pandas (~0.5 s to load), which the
    # rest of this module (cost, agent turns) never needs
    from sizing.compare import OS_RESERVE_GB, checkpoint_gb, storage_fit  # noqa: PLC0415

    reserve = OS_RESERVE_GB if os_reserve_gb is None else os_reserve_gb
    if reserve < 0:
        raise ValueError(f"OS reserve must be non-negative (got {reserve})")
    ids = list(platform_ids) if platform_ids else [p.id for p in catalog.platforms]
    table = storage_fit(catalog, list(checkpoints), platforms=ids, reserve_gb=reserve)
    notes = {p.id: p.storage_note for p in catalog.platforms}
    rows = [
        {**row, "storage_note": notes.get(row["platform"])}
        for row in table.to_dict(orient="records")
    ]
    return {
        "checkpoints": [
            {"model": m, "weights": q, "size_gb": checkpoint_gb(catalog, m, q)}
            for m, q in checkpoints
        ],
        "os_reserve_gb": reserve,
        "platforms": rows,
        "assumptions": [
            f"OS reserve {reserve:g} GB per unit (ASSUMPTION: OS, CUDA, engine container "
            "images, caches)",
            "checkpoint size = parameters x bits per weight of the quantization, MTP and "
            "vision tensors included (file metadata adds <1 %)",
            "every unit of a cluster keeps its own copy (no shared network storage); "
            "models_fit counts the chosen checkpoints smallest first",
            "SSD sizes in decimal TB (1 TB = 1000 GB) as sold; a GPU card: its host build's SSD",
        ],
    }


__all__ = [
    "DEFAULT_CLOUD_PRICES_PATH",
    "AgentTurn",
    "CloudComparison",
    "CloudPrice",
    "CloudPriceError",
    "CloudPrices",
    "LocalCost",
    "agent_report",
    "agent_session",
    "break_even_months",
    "chart_months",
    "cloud_chf_per_month",
    "cloud_prices_with",
    "compare_with_cloud",
    "cost_report",
    "cumulative_cost_chf",
    "cumulative_table",
    "depreciation_chf_per_day",
    "energy_chf_per_day",
    "final_context_tokens",
    "input_tokens_per_output_token",
    "load_cloud_prices",
    "local_cost",
    "output_tokens_per_day",
    "parse_checkpoints",
    "parse_cloud_prices",
    "seconds_per_output_token",
    "storage_report",
    "usd_to_chf",
]
