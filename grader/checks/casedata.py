"""An assignment's case data, for its check files: shared helper modules and tensor files.

pytest imports check files with ``--import-mode=importlib`` and ``--noconftest``,
so a check file cannot import a sibling module. The helpers that build cases
(``_cases.py`` beside the hidden checks, ``_common.py`` beside the public ones)
and the expected outputs in ``data/*.safetensors`` are loaded by path instead::

    from grader.checks import load_cases, load_tensors

    cases = load_cases(__file__)                      # ./_cases.py
    common = load_cases(__file__, "_common")          # ./_common.py
    data = load_tensors(__file__, "rnn_bptt.safetensors")  # ./data/rnn_bptt.safetensors

A helper module is executed once per process and content: every check file of
an assignment shares one instance, and an edited file (or another course's
file of the same name) is a different module, never a stale one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import torch

from ..errors import UsageError


def _beside(check_file: str | Path, name: str) -> Path:
    return Path(check_file).resolve().with_name(name)


def load_cases(check_file: str | Path, name: str = "_cases") -> ModuleType:
    """The helper module ``<name>.py`` in the folder of ``check_file`` (pass ``__file__``)."""
    path = _beside(check_file, f"{name}.py")
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{check_file}: cannot read its helper module {path}: {exc.strerror}") from None
    digest = hashlib.sha256(str(path).encode() + b"\0" + source).hexdigest()[:16]
    key = f"seqgrade_casedata_{name.strip('_')}_{digest}"
    module = sys.modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # before exec: dataclasses and pickling look their module up
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
    return module


def load_tensors(check_file: str | Path, filename: str, folder: str = "data") -> dict[str, torch.Tensor]:
    """The tensors of ``<folder>/<filename>`` (safetensors) beside ``check_file`` (pass ``__file__``)."""
    from safetensors.torch import load_file

    path = Path(check_file).resolve().parent / folder / filename
    if not path.is_file():
        raise UsageError(f"{check_file}: its data file {path} is missing (run `seqgrade release` to rebuild "
                         "the public checks' data)")
    return load_file(str(path))
