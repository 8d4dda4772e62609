"""Import a trusted module (a reference solution) from a file path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ..errors import ConfigError


def load_trusted_module(path: Path, name: str) -> ModuleType:
    """Import `path` as a module called `name`. Only for the course's own files."""
    if not path.is_file():
        raise ConfigError(f"{path} does not exist: is this the course folder (see --course)?")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ConfigError(f"{path} could not be imported: {type(exc).__name__}: {exc}") from exc
    return module
