"""Load the module a lab measures: the course's reference or a student's file.

A lab names the course modules it uses (``rnn``, ``gated``, ``attention``,
``seq2seq``). Each comes from, in order:

1. a file the user passed with ``--impl`` (``gated.py`` or ``gated=path.py``);
2. the reference ``<course root>/solutions/<module>.py``;
3. for ``rnn``, ``gated`` and ``attention`` only, torch's own modules, which
   follow the same contract (a student's machine has no ``solutions/``).

Labs run the learner's own code on the learner's own machine, so importing it
in-process is fine here (grading, which runs code from others, uses a sandbox).
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Iterable, Mapping, Sequence

from ..errors import UsageError


def load_module(path: Path, name: str) -> ModuleType:
    """Import the Python file at ``path`` as a module called ``name``.

    Raises `UsageError` naming the file when it does not exist, is not a
    ``.py`` file, has a syntax error (with its line) or raises while importing.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file; give the path of your .py file")
    if path.suffix != ".py":
        raise UsageError(f"{path}: not a Python file (expected a .py file)")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always have a loader
        raise UsageError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        text = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise UsageError(f"{where}: syntax error ({exc.msg}){text}") from exc
    except Exception as exc:
        sys.modules.pop(name, None)
        raise UsageError(f"{_where_in(path, exc)}: importing it raised {type(exc).__name__}: {exc}") from exc
    return module


def _where_in(path: Path, exc: BaseException) -> str:
    """``file:line`` of the deepest frame of the traceback that is in ``path``."""
    line = None
    target = str(path.resolve())
    for frame in traceback.extract_tb(exc.__traceback__):
        if str(Path(frame.filename).resolve()) == target:
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)


# Modules whose contract torch itself implements: the stand-in when a course
# root has no solutions/ (a learner's machine) and no --impl replaces them.
def _torch_stand_in(module: str) -> SimpleNamespace | None:
    import torch
    from torch import nn

    if module == "rnn":
        return SimpleNamespace(RNN=nn.RNN, RNNCell=nn.RNNCell)
    if module == "gated":
        return SimpleNamespace(LSTM=nn.LSTM, LSTMCell=nn.LSTMCell, GRU=nn.GRU, GRUCell=nn.GRUCell)
    if module == "attention":

        class MultiHeadAttention(nn.MultiheadAttention):
            """torch's layer, batch-first, with the course's call signature (no masks)."""

            def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
                super().__init__(embed_dim, num_heads, bias=bias, batch_first=True)

            def forward(self, query, key, value, attn_mask=None, is_causal=False):  # noqa: D102
                if attn_mask is not None or is_causal:
                    raise NotImplementedError("the torch stand-in takes no mask")
                return super().forward(query, key, value, average_attn_weights=False)

        return SimpleNamespace(MultiHeadAttention=MultiHeadAttention, torch=torch)
    return None


@dataclass
class LoadedModules:
    """The modules a lab runs, and where each came from (for plot titles, CSVs)."""

    modules: dict[str, ModuleType | SimpleNamespace]
    sources: dict[str, str]  # module -> "solutions/rnn.py", "impl: my/rnn.py" or "torch.nn"

    def __getitem__(self, module: str):
        return self.modules[module]

    def describe(self) -> str:
        return ", ".join(f"{m}: {s}" for m, s in self.sources.items())


def parse_impls(impls: Iterable[str | Path], needed: Sequence[str], lab: str) -> dict[str, Path]:
    """Map each ``--impl`` value to the module it replaces.

    ``gated.py`` replaces ``gated`` (the file's name says which); ``gated=mine.py``
    names the module explicitly. Raises `UsageError` when a file fits none of
    the modules the lab uses or two files claim the same module.
    """
    chosen: dict[str, Path] = {}
    for raw in impls:
        text = str(raw)
        module, sep, file = text.partition("=")
        if sep and module in needed:
            path = Path(file)
        else:
            path = Path(text)
            module = path.stem
            if module not in needed:
                if len(needed) == 1:
                    module = needed[0]
                else:
                    names = ", ".join(f"{m}.py" for m in needed)
                    raise UsageError(
                        f"--impl {text}: lab {lab!r} uses {names}; name your file after one of them "
                        f"or say which it replaces, e.g. --impl {needed[0]}={text}"
                    )
        if module in chosen:
            raise UsageError(f"--impl: two files for {module}.py ({chosen[module]} and {path}); give one")
        chosen[module] = path
    return chosen


def load_lab_modules(
    needed: Sequence[str],
    solutions_dir: Path,
    impls: Mapping[str, Path] | None = None,
    *,
    lab: str = "lab",
) -> LoadedModules:
    """Load every module in ``needed``: from ``impls``, the reference, or torch."""
    impls = dict(impls or {})
    modules: dict[str, ModuleType | SimpleNamespace] = {}
    sources: dict[str, str] = {}
    for module in needed:
        if module in impls:
            path = impls[module]
            modules[module] = load_module(path, f"seqgrade_lab_impl_{module}")
            sources[module] = f"impl: {path}"
            continue
        reference = Path(solutions_dir) / f"{module}.py"
        if reference.is_file():
            modules[module] = load_module(reference, f"seqgrade_lab_reference_{module}")
            sources[module] = f"solutions/{module}.py"
            continue
        stand_in = _torch_stand_in(module)
        if stand_in is None:
            raise UsageError(
                f"lab {lab!r} needs {module}.py: there is no {reference}; "
                f"pass your own with --impl {module}.py"
            )
        modules[module] = stand_in
        sources[module] = "torch.nn"
    return LoadedModules(modules, sources)


def require(loaded: LoadedModules, module: str, *names: str):
    """The attributes ``names`` of ``module`` (one value for one name, else a tuple)."""
    mod = loaded[module]
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        raise UsageError(f"{loaded.sources[module]} defines no {', '.join(missing)}; the lab needs it")
    values = tuple(getattr(mod, n) for n in names)
    return values[0] if len(values) == 1 else values
