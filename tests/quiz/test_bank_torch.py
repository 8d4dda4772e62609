"""Every numeric answer of the shipped bank, checked against torch for many students.

Each numeric question has a verifier that builds the torch module the prompt
names, with the student's drawn numbers, and counts its parameters or runs it
and measures the shape. A numeric question without a verifier fails the suite.
"""

from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.quiz.grading import numeric_close
from grader.quiz.model import Numeric
from grader.quiz.variants import make_variant

from .conftest import SECRET

STUDENTS = [f"student{i:02d}" for i in range(24)] + ["alice", "bob", "张伟"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny modules: one thread is fastest and does not fight the other test worker for cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def n_params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def tanh_max_slope(v) -> float:
    x = torch.linspace(-6, 6, 12001, dtype=torch.float64, requires_grad=True)
    torch.tanh(x).sum().backward()
    return x.grad.max().item()


def rnn_hn_numel(v) -> int:
    rnn = nn.RNN(v["I"], v["H"], num_layers=v["L"])
    _, h_n = rnn(torch.zeros(v["T"], v["B"], v["I"]))
    return h_n.numel()


def bilstm_output_size(v) -> int:
    out, _ = nn.LSTM(v["I"], v["H"], bidirectional=True)(torch.zeros(v["T"], v["B"], v["I"]))
    assert out.shape[:2] == (v["T"], v["B"])
    return out.shape[-1]


def sdpa_scale(v) -> float:
    """Recover the scale F.scaled_dot_product_attention applies: scores [s*1, 0] -> log(w0 / w1) = s."""
    d = int(v["d_k"])
    q = torch.zeros(1, 1, d, dtype=torch.float64)
    q[..., 0] = 1.0
    k = torch.zeros(1, 2, d, dtype=torch.float64)
    k[0, 0, 0] = 1.0
    val = torch.zeros(1, 2, 2, dtype=torch.float64)
    val[0, 0, 0] = val[0, 1, 1] = 1.0
    w = F.scaled_dot_product_attention(q, k, val)[0, 0]  # the two attention weights
    return math.log(w[0].item() / w[1].item())


def additive_params(v) -> int:
    return n_params(nn.Linear(v["q"], v["h"], bias=False), nn.Linear(v["k"], v["h"], bias=False),
                    nn.Linear(v["h"], 1, bias=False))


def attn_weights_numel(v) -> int:
    E, h = int(v["E"]), v["h"]
    mha = nn.MultiheadAttention(E, h, batch_first=True)
    q = torch.zeros(v["B"], v["L"], E)
    kv = torch.zeros(v["B"], v["S"], E)
    _, w = mha(q, kv, kv, need_weights=True, average_attn_weights=False)
    assert w.shape == (v["B"], h, v["L"], v["S"])
    return w.numel()


VERIFIERS: dict[tuple[str, str], Callable[[dict], float]] = {
    ("q1_rnn_basics", "tanh_max_slope"): tanh_max_slope,
    ("q1_rnn_basics", "rnn_params"): lambda v: n_params(nn.RNN(v["I"], v["H"])),
    ("q1_rnn_basics", "rnn_hn_numel"): rnn_hn_numel,
    ("q2_gated", "lstm_params"): lambda v: n_params(nn.LSTM(v["I"], v["H"])),
    ("q2_gated", "gru_params"): lambda v: n_params(nn.GRU(v["I"], v["H"])),
    ("q2_gated", "stacked_lstm_params"): lambda v: n_params(nn.LSTM(v["I"], v["H"], num_layers=2)),
    ("q2_gated", "bilstm_output_size"): bilstm_output_size,
    ("q3_attention", "sdpa_scale"): sdpa_scale,
    ("q3_attention", "additive_params"): additive_params,
    ("q3_attention", "mha_params"): lambda v: n_params(nn.MultiheadAttention(v["E"], v["h"])),
    ("q3_attention", "mha_head_dim"): lambda v: nn.MultiheadAttention(int(v["E"]), v["h"]).head_dim,
    ("q3_attention", "attn_weights_numel"): attn_weights_numel,
    ("q4_seq2seq_vs_transformer", "encoder_layer_params"):
        lambda v: n_params(nn.TransformerEncoderLayer(v["E"], v["h"], v["F"])),
    ("q4_seq2seq_vs_transformer", "gru_encoder_params"):
        lambda v: n_params(nn.Embedding(v["V"], v["E"], padding_idx=0), nn.GRU(v["E"], v["H"], batch_first=True)),
}


def test_every_numeric_question_has_a_torch_verifier(bank):
    numeric = {(quiz.id, q.id) for quiz in bank.values() for q in quiz.questions if isinstance(q, Numeric)}
    assert numeric == set(VERIFIERS)


@pytest.mark.parametrize("key", sorted(VERIFIERS), ids=[f"{a}:{b}" for a, b in sorted(VERIFIERS)])
def test_numeric_answer_matches_torch_for_many_students(bank, key):
    quiz_id, qid = key
    q = bank[quiz_id].question(qid)
    students = STUDENTS if q.parameterized else STUDENTS[:1]
    seen = set()
    for student in students:
        v = make_variant(quiz_id, q, student, SECRET)
        want = VERIFIERS[key](v.values)
        assert numeric_close(v.answer, want, 1e-9, 1e-12), (student, v.values, v.answer, want)
        assert numeric_close(want, v.answer, q.abs_tol, q.rel_tol)  # torch's value is accepted as an answer
        seen.add(v.answer)
    if q.parameterized:
        assert len(seen) > 1, "students should get different numbers"


def test_gru_has_three_quarters_of_the_lstm_parameters(bank):
    assert "3/4" in bank["q2_gated"].question("gru_params").explanation.get("en")
    for i, h in [(8, 16), (33, 7), (128, 256)]:
        assert 4 * n_params(nn.GRU(i, h)) == 3 * n_params(nn.LSTM(i, h))


def _fold_biases(rnn: nn.Module, blocks: slice) -> nn.Module:
    """The same network with the recurrent bias of the given rows moved into the input bias."""
    with torch.no_grad():
        rnn.bias_ih_l0[blocks] += rnn.bias_hh_l0[blocks]
        rnn.bias_hh_l0[blocks] = 0
    return rnn


def test_only_the_grus_candidate_bias_cannot_be_folded(bank):
    """gru_bhn_bias (true) and lesson 4: torch keeps two biases in every RNN; only b_hn is not redundant."""
    assert bank["q2_gated"].question("gru_bhn_bias").answer is True
    torch.manual_seed(0)
    H, x = 5, torch.randn(7, 2, 3)
    for cls, foldable in ((nn.RNN, slice(0, H)), (nn.LSTM, slice(0, 4 * H)), (nn.GRU, slice(0, 2 * H))):
        rnn = cls(3, H)
        want = rnn(x)[0]
        assert torch.allclose(_fold_biases(rnn, foldable)(x)[0], want, atol=1e-6), cls.__name__
    gru = nn.GRU(3, H)
    want = gru(x)[0]
    assert not torch.allclose(_fold_biases(gru, slice(2 * H, 3 * H))(x)[0], want, atol=1e-4)


def test_mha_parameters_do_not_depend_on_heads_but_its_weights_do(bank):
    q3 = bank["q3_attention"]
    doubling = next(o for o in q3.question("multihead_benefits").options if "doubles" in o.text.get("en"))
    assert not doubling.correct and q3.question("heads_weight_memory").answer is False
    assert len({n_params(nn.MultiheadAttention(64, h)) for h in (1, 2, 4, 8, 16)}) == 1
    x = torch.zeros(2, 5, 64)
    sizes = [nn.MultiheadAttention(64, h, batch_first=True)(x, x, x, average_attn_weights=False)[1].numel()
             for h in (1, 2, 4)]
    assert sizes == [50, 100, 200]  # h weight maps of L x S, however narrow the heads


def test_shifting_a_row_of_scores_leaves_the_weights_alone(bank):
    assert bank["q3_attention"].question("softmax_shift").answer is True
    e = torch.randn(3, 6, dtype=torch.float64)
    assert torch.allclose(torch.softmax(e + 123.0, -1), torch.softmax(e, -1))


def test_an_lstms_forget_and_input_gates_are_not_coupled(bank):
    """lstm_not_interpolation (false): f + i is not 1 in general."""
    assert bank["q2_gated"].question("lstm_not_interpolation").answer is False
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    gates = torch.randn(5, 3) @ cell.weight_ih.T + cell.bias_ih + cell.bias_hh
    i, f = torch.sigmoid(gates[:, :4]), torch.sigmoid(gates[:, 4:8])
    assert not torch.allclose(i + f, torch.ones_like(i), atol=0.05)


def test_a_minus_inf_score_gets_exactly_zero_weight(bank):
    assert bank["q3_attention"].question("masked_weight_zero").answer is True
    scores = torch.tensor([[3.0, float("-inf"), -50.0, 2.0]], dtype=torch.float64)
    w = torch.softmax(scores, dim=-1)
    assert w[0, 1].item() == 0.0 and w.sum().item() == pytest.approx(1.0)


def test_scaled_dot_product_attention_has_no_parameters(bank):
    assert bank["q3_attention"].question("sdpa_no_params").answer is False
    q = torch.randn(2, 3, 8, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.grad_fn is not None  # a pure function of its inputs: nothing else to learn


def test_lstm_gate_blocks_are_four_and_gru_three():
    assert nn.LSTM(5, 7).weight_ih_l0.shape == (4 * 7, 5)
    assert nn.GRU(5, 7).weight_ih_l0.shape == (3 * 7, 5)
