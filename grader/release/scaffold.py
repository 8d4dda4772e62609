"""``seqgrade new assignment``: a working new assignment in a course, without touching the package.

It writes a reference with solution markers (``solutions/<module>.py``), a
hidden checks folder with one example check of each kind (values, gradients,
shapes, parallelism), a public check, README files, the starter code
generated from the reference, and the assignment's entry in course.yaml. The
reference passes every check at once, so ``release``, ``check``, ``grade``,
``feedback``, ``export`` and ``nbgrader init`` work on it before the
instructor changes a line; then they replace the example with their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import ID_RE, MODULE_RE
from ..config import CourseConfig
from ..errors import UsageError

REFERENCE = '''"""{title}: the reference solution (hidden: never shipped to students).

Students implement what is inside the ``### BEGIN SOLUTION`` regions; `seqgrade
release` turns each region into a TODO in the starter code.

Legend: N batch size, L sequence length, F features.
"""

import torch
from torch import nn


class Scale(nn.Module):
    """y = x * weight, one weight per feature.

    Parameters: ``weight [F]``. ``forward(x [N, L, F]) -> [N, L, F]``.
    """

    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return x * self.weight  # (N, L, F)
        ### END SOLUTION
'''

HIDDEN_CHECKS = '''"""Hidden checks of {id}: one example of each kind. Replace them with your own.

Each check names what it measures (`kind`) and what it calls (`targets`); see
docs/writing-checks.md.
"""

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor
from grader.checks.parallel import counted_ops
from grader.sandbox.wire import GradInput

F64 = torch.float64


def _case(d, ref):
    N, L, F = d.distinct(3, 2, 6)
    m = ref.Scale(F).double()
    state = d.perturb_state(m)
    m.load_state_dict(state)
    x = d.randn(N, L, F)
    return state, F, x, m(x)


@check(points=2, description="Scale gives the reference's values", kind="values", targets=("Scale",))
def test_scale_values(sub, ref, once):
    state, F, x, expected = once(lambda d: _case(d, ref))
    m = sub.build("Scale", state, features=F, dtype=F64)
    assert_close(sub.call(m, x).value, expected, "Scale(x)")


@check(points=1, description="gradients reach x and the weight", kind="gradients", targets=("Scale",))
def test_scale_gradients(sub, ref, once):
    state, F, x, _ = once(lambda d: _case(d, ref))
    r = ref.Scale(F).double()
    r.load_state_dict(state)
    xr = x.clone().requires_grad_(True)
    grad = torch.ones_like(x)
    (r(xr) * grad).sum().backward()
    m = sub.build("Scale", state, features=F, dtype=F64)
    got = sub.call(m, GradInput(x), backward=grad)
    assert_grad_close(got.input_grads[0], xr.grad, "dLoss/dx")
    assert_grad_close(got.param_grads.get("weight"), r.weight.grad, "dLoss/dweight")


@check(points=1, description="the output keeps the input's shape and dtype", kind="shapes", targets=("Scale",))
def test_scale_shapes(sub, draw):
    N, L, F = draw.distinct(3, 2, 6)
    for dtype in (torch.float32, torch.float64):
        m = sub.new("Scale", features=F, dtype=dtype)
        expect_tensor(sub.call(m, draw.randn(N, L, F, dtype=dtype)).value, f"Scale in {{dtype}}", (N, L, F), dtype)


@check(points=1, description="no Python loop over positions or batch items", kind="parallelism",
       targets=("Scale",))
def test_scale_parallel(sub, ref, draw):
    F = draw.int(2, 5)
    r = ref.Scale(F).float()
    state = draw.perturb_state(r)
    r.load_state_dict(state)
    m = sub.build("Scale", state, features=F, dtype=torch.float32)
    counts = []
    for N, L in ((2, 3), (2, draw.int(9, 14)), (draw.int(5, 8), 3)):
        x = draw.randn(N, L, F, dtype=torch.float32)
        counts.append(counted_ops(sub, m, x, expected=r(x), what="Scale"))
    if any(c != counts[0] for c in counts):
        from grader.checks import fail

        fail(f"Scale: the number of tensor operations grows with the sizes ({{counts[0]}} vs "
             f"{{', '.join(str(c) for c in counts[1:])}}): do not loop over positions or batch items")
'''

PUBLIC_CHECK = '''"""Public checks of {id}: students run these with `seqgrade check {id} {module}.py`."""

import torch

from grader.checks import assert_close, check


@check(points=1, description="Scale multiplies each feature by its weight", kind="values", targets=("Scale",))
def test_public_scale(sub, draw):
    N, L, F = draw.distinct(3, 2, 6)
    weight = draw.randn(F)
    x = draw.randn(N, L, F)
    m = sub.build("Scale", {{"weight": weight}}, features=F, dtype=torch.float64)
    assert_close(sub.call(m, x).value, x * weight, "Scale(x)")
'''

README = """# {id} — {title}

Implement `{module}.py`: every function or method marked TODO. Keep every name and
signature (the grader loads the same weights into your module and the reference).

## Check your work

    seqgrade check {id} {module}.py

## Hand it in

    seqgrade submit {id} {module}.py --student YOUR_ID     # writes {id}-YOUR_ID.zip: hand in that file
"""

README_ZH = """# {id} — {title_zh}

实现 `{module}.py` 中每个标记为 TODO 的函数或方法。保持所有名称与签名不变（评分时会把同一组权重
加载到你的模块与参考实现中）。

## 检查你的代码

    seqgrade check {id} {module}.py

## 提交

    seqgrade submit {id} {module}.py --student 你的学号     # 生成 {id}-你的学号.zip：提交这个文件
"""


@dataclass
class Scaffold:
    assignment: str
    written: list[Path] = field(default_factory=list)


def _yaml_entry(aid: str, module: str, title: str, title_zh: str, due: str | None) -> str:
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"  {aid}:", f"    module: {module}", f"    title: {{en: {q(title)}, zh: {q(title_zh)}}}"]
    if due:
        lines.append(f"    due: {due}")
    return "\n".join(lines) + "\n"


def add_to_course_yaml(path: Path, entry: str) -> None:
    """Insert `entry` under ``assignments:`` of course.yaml, keeping the rest of the file (and its comments)."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^assignments:[ \t]*(\{\s*\})?[ \t]*(#.*)?$", text, re.MULTILINE)
    if m is None:
        text = text.rstrip("\n") + "\n\nassignments:\n" + entry
    else:
        head, tail = text[: m.start()], text[m.end():]
        rest = tail.split("\n")
        i = 1  # the first line after `assignments:`; keep its entries (indented lines, blanks, comments)
        while i < len(rest) and (rest[i].startswith((" ", "\t")) or not rest[i].strip()):
            i += 1
        while i > 1 and not rest[i - 1].strip():
            i -= 1
        body = "\n".join(rest[1:i])
        text = head + "assignments:\n" + (body + "\n" if body else "") + entry + "\n".join(rest[i:])
    path.write_text(text, encoding="utf-8")


def new_assignment(cfg: CourseConfig, aid: str, module: str, *, title: str = "", title_zh: str = "",
                   due: str | None = None, force: bool = False) -> Scaffold:
    """Scaffold assignment `aid` (students submit `module`.py) in `cfg`'s course; see the module doc."""
    from .regenerate import starter_files, write

    if cfg.source is None:
        raise UsageError("seqgrade new assignment needs a course config to add the assignment to (--course)")
    if not ID_RE.match(aid):
        raise UsageError(f"{aid!r} is not an assignment id: lower-case letters, digits and _ (e.g. a6_bigru)")
    if not MODULE_RE.match(module):
        raise UsageError(f"{module!r} is not a Python module name")
    if aid in cfg.assignments:
        raise UsageError(f"{aid} is already an assignment of {cfg.source}")
    if any(a.module == module for a in cfg.assignments.values()):
        raise UsageError(f"{module}.py is already another assignment's module; choose another --module")
    title = title or aid
    root = cfg.root
    files = {
        root / "solutions" / f"{module}.py": REFERENCE.format(title=title),
        root / "solutions" / "checks" / aid / "test_examples.py": HIDDEN_CHECKS.format(id=aid),
        root / "assignments" / aid / "checks" / f"test_public_{module}.py": PUBLIC_CHECK.format(id=aid,
                                                                                               module=module),
        root / "assignments" / aid / "README.md": README.format(id=aid, title=title, module=module),
        root / "assignments" / aid / "README.zh.md": README_ZH.format(id=aid, title_zh=title_zh or title,
                                                                      module=module),
    }
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]} exists already (--force replaces the scaffold's files)")
    out = Scaffold(aid)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.written.append(path)
    add_to_course_yaml(cfg.source, _yaml_entry(aid, module, title, title_zh or title, due))
    out.written.append(cfg.source)
    from ..config import load_config

    new_cfg = load_config(cfg.source)
    for g in starter_files(new_cfg, [new_cfg.assignment(aid)]):
        write(g)
        out.written.append(g.path)
    return out
