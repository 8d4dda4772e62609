"""The course's assignments: ids, the module each asks for, and where their checks live.

Public checks ship with the starter code (`assignments/<id>/checks/`); hidden
checks sit beside the references (`solutions/checks/<id>/`) and never leave
the instructor's side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import CourseConfig
from .errors import UsageError


@dataclass(frozen=True)
class Assignment:
    id: str  # "a3_attention"
    module: str  # the one file a student submits, without .py: "attention"
    title_en: str
    title_zh: str

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    def starter_dir(self, cfg: CourseConfig) -> Path:
        return cfg.assignments_dir / self.id

    def public_checks(self, cfg: CourseConfig) -> Path:
        return cfg.assignments_dir / self.id / "checks"

    def hidden_checks(self, cfg: CourseConfig) -> Path:
        return cfg.solutions_dir / "checks" / self.id

    def reference(self, cfg: CourseConfig) -> Path:
        return cfg.solutions_dir / self.filename


ASSIGNMENTS: dict[str, Assignment] = {
    a.id: a
    for a in (
        Assignment("a1_rnn", "rnn", "Recurrent networks and backpropagation through time", "循环神经网络与随时间反向传播"),
        Assignment("a2_gated", "gated", "Gated recurrent networks: LSTM and GRU", "门控循环网络：LSTM 与 GRU"),
        Assignment("a3_attention", "attention", "Attention: additive, multiplicative, scaled dot-product, multi-head",
                   "注意力：加性、乘性、缩放点积与多头注意力"),
        Assignment("a4_seq2seq", "seq2seq", "Seq2Seq with RNN encoder-decoders and attention", "基于 RNN 编码器-解码器与注意力的 Seq2Seq"),
        Assignment("a5_transformer", "transformer", "The Transformer", "Transformer"),
    )
}


def get_assignment(name: str) -> Assignment:
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise UsageError(
            f"unknown assignment {name!r}; choose one of: {', '.join(ASSIGNMENTS)} (see `seqgrade list`)"
        ) from None
