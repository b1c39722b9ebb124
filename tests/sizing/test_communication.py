"""Communication (issue 11 item 4): all-reduce time as a function of ranks, message size
and transport (catalog `transports`), pipeline hand-offs and the multi-node step cost.

Hand-computed figures are checked against the public GB10 measurements the catalog cites:
54-64 us per 48 KB NCCL all-reduce in vLLM decode on four Sparks (local-inference-lab/b12x
PR #295) and, as a floor, nccl-tests all_reduce_perf between two Sparks, 8-16 KiB in
30.3-35.2 us (NVIDIA/dgx-spark-playbooks PR #103).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizing import kernel
from sizing.calibrate import Case, prepare_row, row_transport
from sizing.catalog import default_catalog
from sizing.compare import Workload, check_transport
from sizing.estimate import estimate
from sizing.memory import table_for
from sizing.scenario import Scenario, ScenarioError, resolve
from sizing.throughput import decode_at

CAT = default_catalog()
ROOT = Path(__file__).resolve().parents[2]
GB10 = "asus-gx10-1tb"
ROCE_BUS_BYTES_S = 0.9 * 200e9 / 8  # 22.5 GB/s (22.44 GB/s measured, forum 362368)


def _cols(transport_id: str, platform_id: str = GB10) -> dict[str, np.ndarray]:
    p = CAT.platform(platform_id)
    cols = kernel.transport_columns(p, CAT.transport(transport_id))
    return {k: np.array([v]) for k, v in cols.items()}


def _allreduce_us(
    transport_id: str, ranks: float, message_bytes: float, platform_id: str = GB10
) -> float:
    return float(
        kernel.allreduce_s(
            _cols(transport_id, platform_id), np.array([ranks]), np.array([message_bytes])
        )[0]
        * 1e6
    )


# ----------------------------------------------------------------------------- by hand
def test_ring_allreduce_by_hand():
    # 4 ranks, 48 KB, 40 us + 6 steps x 2.7 us + 49,152 x 1.5 B / 22.5 GB/s = 59.48 us
    t = kernel.ring_allreduce_s(
        np.array([4.0]),
        np.array([49152.0]),
        np.array([40e-6]),
        np.array([2.7e-6]),
        np.array([ROCE_BUS_BYTES_S]),
    )[0]
    assert t == pytest.approx(40e-6 + 6 * 2.7e-6 + 49152 * 1.5 / ROCE_BUS_BYTES_S)
    assert t * 1e6 == pytest.approx(59.48, abs=0.01)


def test_one_rank_costs_nothing():
    for f in (kernel.ring_allreduce_s, kernel.tree_allreduce_s):
        assert (
            f(
                np.array([1.0]),
                np.array([1e6]),
                np.array([17e-6]),
                np.array([6.5e-6]),
                np.array([ROCE_BUS_BYTES_S]),
            )[0]
            == 0.0
        )


def test_tree_by_hand_and_picked_when_faster():
    # 8 ranks, 16 KiB: tree 40 + 2 x 3 levels x 5.0 (NCCL's tree step) + 2 x 16,384 B /
    # 22.5 GB/s = 71.46 us; the ring's 14 steps cost 40 + 37.8 + 1.27 = 79.07 us: NCCL
    # takes the tree
    tree = 40 + 2 * 3 * (5.0 / 2.7) * 2.7 + 2 * 16384 / ROCE_BUS_BYTES_S * 1e6
    ring = 40 + 14 * 2.7 + 16384 * 1.75 / ROCE_BUS_BYTES_S * 1e6
    assert tree == pytest.approx(71.46, abs=0.01)
    assert ring == pytest.approx(79.07, abs=0.01)
    assert _allreduce_us("roce", 8, 16384) == pytest.approx(tree)
    # a transport without a tree (PCIe inside one host) pays the ring
    ring_pcie = _allreduce_us("pcie-p2p", 4, 16384, "rtx-pro-6000-ws")
    bus = 0.85 * CAT.platform("rtx-pro-6000-ws").interconnect.link_gbit_s * 1e9 / 8
    assert ring_pcie == pytest.approx(8 + 6 * 2 + 16384 * 1.5 / bus * 1e6)


def test_roce_matches_the_published_gb10_measurements():
    # four Sparks in vLLM decode: 54-64 us per 48 KB all-reduce (b12x PR #295)
    assert 54 <= _allreduce_us("roce", 4, 48 * 1024) <= 64
    # two Sparks: never below the nccl-tests microbenchmark (8-16 KiB in 30.3-35.2 us,
    # PR #103), and below the four-Spark in-engine figure
    for size in (8192, 16384):
        assert 30.3 <= _allreduce_us("roce", 2, size) < 54


def test_hop_by_hand():
    # a pipeline hand-off of one token of gpt-oss (2,880 x 2 B) over RoCE: 40 + 2.7 us +
    # 5,760 B / 22.5 GB/s = 42.956 us
    t = {**_cols("roce"), "hidden_size_count": np.array([2880.0])}
    assert kernel.hop_s(t, np.array([1.0]))[0] == pytest.approx(42.7e-6 + 5760 / ROCE_BUS_BYTES_S)
    assert kernel.hop_s(t, np.array([1.0]))[0] * 1e6 == pytest.approx(42.956, abs=0.001)


def test_multi_node_step_cost_only_across_hosts():
    def step_s(transport_id, platform_id, units, parallel):
        t = {
            **_cols(transport_id, platform_id),
            "units_count": np.array([float(units)]),
            "parallel_code": np.array([float(kernel.PARALLEL_CODE[parallel])]),
        }
        return kernel.multi_node_step_s(t)[0]

    assert step_s("roce", GB10, 2, "tp") == pytest.approx(100e-6)
    assert step_s("roce", GB10, 4, "pp") == pytest.approx(100e-6)
    assert step_s("roce", GB10, 1, "tp") == 0.0
    assert step_s("roce", GB10, 4, "replicas") == 0.0
    assert step_s("pcie-p2p", "rtx-pro-6000-ws", 4, "tp") == 0.0  # cards in one host


# ----------------------------------------------------------------------------- invariants
latency_s = st.floats(0.0, 1e-3)
hop_latency_s = st.floats(1e-7, 1e-3)
bus_bytes_s = st.floats(1e8, 1e12)
message_bytes = st.floats(0.0, 1e9)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 63), message_bytes, latency_s, hop_latency_s, bus_bytes_s, st.booleans())
def test_more_ranks_never_faster(n, msg, base, hop, bus, tree):
    t = {
        "comm_base_latency_s": np.array([base]),
        "comm_hop_latency_s": np.array([hop]),
        "comm_bus_bytes_s": np.array([bus]),
        "comm_tree_flag": np.array([float(tree)]),
    }
    fewer = kernel.allreduce_s(t, np.array([float(n)]), np.array([msg]))[0]
    more = kernel.allreduce_s(t, np.array([float(n + 1)]), np.array([msg]))[0]
    assert more >= fewer * (1 - 1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 64), message_bytes, message_bytes, latency_s, hop_latency_s, bus_bytes_s)
def test_bigger_messages_never_faster(n, a, b, base, hop, bus):
    small, big = sorted((a, b))
    t = {
        "comm_base_latency_s": np.array([base]),
        "comm_hop_latency_s": np.array([hop]),
        "comm_bus_bytes_s": np.array([bus]),
        "comm_tree_flag": np.array([1.0]),
    }
    ranks = np.array([float(n)])
    assert kernel.allreduce_s(t, ranks, np.array([big]))[0] >= kernel.allreduce_s(
        t, ranks, np.array([small])
    )[0] * (1 - 1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 64), message_bytes)
def test_tcp_slower_than_roce_and_host_staging_slower_than_p2p(n, msg):
    assert _allreduce_us("tcp", n, msg) > _allreduce_us("roce", n, msg)
    card = "rtx-5090"
    assert _allreduce_us("pcie-host", n, msg, card) > _allreduce_us("pcie-p2p", n, msg, card)


# ----------------------------------------------------------------------------- scenarios
def test_default_transports():
    vllm, llamacpp = CAT.engine("vllm"), CAT.engine("llamacpp")
    assert CAT.default_transport(CAT.platform(GB10), vllm).id == "roce"
    # llama.cpp's RPC backend between hosts is plain TCP
    assert CAT.default_transport(CAT.platform(GB10), llamacpp).id == "tcp"
    assert CAT.default_transport(CAT.platform("rtx-pro-6000-ws"), vllm).id == "pcie-p2p"
    assert CAT.default_transport(CAT.platform("rtx-4090"), vllm).id == "pcie-host"


def test_a_transport_the_platform_cannot_use_is_refused():
    s = Scenario(GB10, 2, "tp", "openai/gpt-oss-120b", "mxfp4", engine="vllm", transport="nvlink")
    with pytest.raises(
        ScenarioError,
        match=r"transport 'nvlink' cannot be used by vllm on "
        r"asus-gx10-1tb; valid choices: roce, tcp",
    ):
        resolve(s, CAT)
    with pytest.raises(ScenarioError, match="unknown transport 'bogus'"):
        resolve(replace(s, transport="bogus"), CAT)


def test_estimate_shows_the_transport_and_tcp_is_slower():
    s = Scenario(GB10, 2, "tp", "openai/gpt-oss-120b", "mxfp4", engine="vllm", context_tokens=1024)
    roce, tcp = estimate(s, CAT), estimate(replace(s, transport="tcp"), CAT)
    assert tcp.speed.decode_tok_s_per_request < roce.speed.decode_tok_s_per_request
    assert roce.to_dict()["transport"] == "roce"
    assert tcp.to_dict()["transport"] == "tcp"
    assert any(
        "RoCE" in a and "platform's default" in a and "ring steps" in a for a in roce.assumptions
    )
    assert any("TCP" in a and "your --transport" in a for a in tcp.assumptions)


def test_dense_70b_scales_less_than_with_a_flat_all_reduce():
    # issue 11: a flat 55 us all-reduce at any node count let a dense 70B scale ~6.2-6.7x on
    # 8 GB10s. With the ring/tree latency the 8-node all-reduce costs ~71.5 us (16 KiB), so
    # the same 161 all-reduces per step take longer and 8 nodes gain less; by hand, the
    # extra (71.5 - 55) us x 161 + the 100 us step cost = 2.8 ms on a ~55 ms step.
    base = Scenario(
        GB10,
        1,
        "tp",
        "meta-llama/Llama-3.3-70B-Instruct",
        "fp8",
        engine="vllm",
        context_tokens=1024,
    )
    one = decode_at(resolve(base, CAT), CAT, 1)[0]
    eight_r = resolve(replace(base, units=8), CAT)
    eight = decode_at(eight_r, CAT, 1)[0]
    t = table_for(eight_r, CAT)
    flat = 1 / eight - 161 * (kernel._allreduce_s(t, np.ones(1))[0] - 55e-6) - 100e-6
    assert kernel._allreduce_s(t, np.ones(1))[0] * 1e6 == pytest.approx(
        40 + 30 + 2 * 8192 * 2 / ROCE_BUS_BYTES_S * 1e6, rel=1e-6
    )
    assert eight / one < 0.96 * (1 / flat) / one  # less than the flat model's scaling
    # and over TCP sockets far less again
    tcp = decode_at(resolve(replace(base, units=8, transport="tcp"), CAT), CAT, 1)[0]
    assert tcp < 0.6 * eight


def test_compare_transport_applies_where_offered():
    w = Workload(model="openai/gpt-oss-120b", weights="mxfp4", transport="tcp")
    check_transport(w, CAT, [GB10, "rtx-pro-6000-ws"])  # offered by GB10: fine
    with pytest.raises(ScenarioError, match="not offered by any compared platform"):
        check_transport(w, CAT, ["rtx-pro-6000-ws"])
    with pytest.raises(ScenarioError, match="unknown transport 'x'"):
        check_transport(replace(w, transport="x"), CAT, [GB10])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sizing", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_transport_flag_and_refusal():
    common = [
        "estimate",
        "--platform",
        GB10,
        "--units",
        "2",
        "--parallel",
        "tp",
        "--model",
        "openai/gpt-oss-120b",
        "--weights",
        "mxfp4",
        "--context",
        "1024",
    ]
    ok = _cli(*common, "--transport", "tcp", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["transport"] == "tcp"
    bad = _cli(*common, "--transport", "nvlink")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "valid choices: roce, tcp" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_batch_column_transport(tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text(
        "platform,units,parallel,model,weights,transport\n"
        f"{GB10},2,tp,openai/gpt-oss-120b,mxfp4,tcp\n"
        f"{GB10},2,tp,openai/gpt-oss-120b,mxfp4,nvlink\n"
        f"{GB10},2,tp,openai/gpt-oss-120b,mxfp4,\n"
    )
    out = _cli("estimate", "--batch", str(csv))
    tcp, bad, default = (json.loads(line) for line in out.stdout.splitlines())
    assert tcp["transport"] == "tcp"
    assert default["transport"] == "roce"
    assert tcp["decode_tok_s_per_request"] < default["decode_tok_s_per_request"]
    assert "transport 'nvlink' cannot be used by vllm" in bad["error"]


def test_benchmark_rows_name_their_transport_in_a_column():
    # row 37 (SGLang TP=2 over a bonded IP link) ran NCCL over sockets: the data says so in
    # `transport_id`; every other row runs over its platform's default (empty column)
    with (ROOT / "data" / "benchmarks.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    named = {r["row"]: row_transport(r) for r in rows if row_transport(r)}
    assert named == {"37": "tcp"}
    case = prepare_row(next(r for r in rows if r["row"] == "37"), CAT)
    assert isinstance(case, Case)
    tcp = next(t for t in CAT.transports if t.id == "tcp")
    assert float(case.table["comm_hop_latency_s"][0]) == pytest.approx(tcp.hop_latency_us * 1e-6)
