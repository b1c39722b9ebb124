"""KV bytes a decode step reads, by hand, for sparse and compressed attention (kernel)."""

from __future__ import annotations

import numpy as np
import pytest

from sizing import kernel
from sizing.memory import table_for
from sizing.scenario import Scenario, resolve

CTX = 131_072


def kv_read(catalog, model: str, weights: str, units: int) -> float:
    r = resolve(Scenario("asus-gx10-1tb", units, "tp", model, weights, context_tokens=CTX), catalog)
    t = table_for(r, catalog)
    mem = kernel.memory(t)
    return float(kernel._kv_read_per_token(t, mem["kv_bytes_per_token"], np.array([float(CTX)]))[0])


def test_dsa_reads_top_k_latents_but_every_indexer_key(catalog):
    # DeepSeek-V3.2, bf16 KV: 61 layers x 576 x 2 B for the 2,048 selected tokens, plus the
    # FP8 indexer keys (128 B + a 4-byte scale) of all 131,072 tokens; latents on every rank
    by_hand = 61 * 576 * 2 * 2048 + 61 * 132 * CTX
    assert kv_read(catalog, "deepseek-ai/DeepSeek-V3.2", "nvfp4", 8) == pytest.approx(by_hand)


def test_compressed_attention_reads_top_k_in_csa_layers(catalog):
    # DeepSeek-V4-Flash, bf16 KV: 21 CSA layers read 512 compressed entries (2,048 tokens) of
    # 512/4 elements per token, 20 HCA layers read all ctx/128 entries, and the FP4 indexer
    # keys (128 x 0.5 B per compressed entry) are read for the whole context
    by_hand = 21 * (512 / 4) * 2 * 2048 + 20 * (512 / 128) * 2 * CTX + 21 * 128 * 0.5 / 4 * CTX
    got = kv_read(catalog, "deepseek-ai/DeepSeek-V4-Flash", "mxfp4", 2)
    assert got == pytest.approx(by_hand, rel=1e-6)
