"""YAML with positions: every value of a quiz or answers file knows its file:line:column.

`yaml.safe_load` forgets where things were; a validator that says "line 12,
column 9: two correct options" needs the nodes. We compose the document and
build the plain Python value ourselves, recording the start of every value and
of every mapping key under its path (a tuple of keys and list indices), and
reporting duplicate keys, which `safe_load` would silently drop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple  # a path into the document: ("questions", 3, "options", 0, "correct")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, where it is and what was expected."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based
    style: str | None = None  # the scalar's YAML style: None (plain), "'", '"', "|", ">"
    single_line: bool = True  # the scalar sits on one line (so offsets into it are columns)


@dataclass
class YamlDoc:
    """A parsed YAML document and where each of its values and keys starts."""

    file: str
    data: Any = None
    values: dict[Path, Mark] = field(default_factory=dict)  # path -> where its value starts
    keys: dict[Path, Mark] = field(default_factory=dict)  # path -> where its key starts
    problems: list[Problem] = field(default_factory=list)

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """Where `path` is (its key when `key`), falling back to its nearest ancestor."""
        path = tuple(path)
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Mark(1, 1))

    def problem(self, path: Path, message: str, *, key: bool = False, offset: int = 0) -> Problem:
        """A problem at `path`; `offset` moves into a one-line scalar (e.g. to a name in a formula)."""
        m = self.mark(path, key=key)
        col = m.column
        if offset and m.single_line and m.style in (None, "'", '"'):
            col += offset + (1 if m.style else 0)
        return Problem(self.file, m.line, col, message)


def _mark(node: yaml.Node) -> Mark:
    style = getattr(node, "style", None)
    single = node.start_mark.line == node.end_mark.line
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1, style or None, single)


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse one YAML document. Syntax errors become problems, never exceptions."""
    doc = YamlDoc(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.problems.append(Problem(file, 1, 1, "the file is empty; expected a mapping"))
            return doc
        doc.data = _build(node, (), doc, loader, depth=0)
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        line, col = (m.line + 1, m.column + 1) if m else (1, 1)
        what = exc.problem or str(exc)
        cm = exc.context_mark
        if exc.context and "expected a single document" in exc.context:
            what = "the file holds more than one YAML document; expected exactly one"
        elif exc.context and cm is not None and m is not None and (cm.line, cm.column) != (m.line, m.column):
            what += f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
        doc.problems.append(Problem(file, line, col, f"not valid YAML: {what}"))
        doc.data = None
    except RecursionError:
        doc.problems.append(Problem(file, 1, 1, "not valid YAML: nested too deeply"))
        doc.data = None
    except (yaml.YAMLError, ValueError) as exc:
        doc.problems.append(Problem(file, 1, 1, f"not valid YAML: {exc}"))
        doc.data = None
    finally:
        loader.dispose()
    return doc


_MAX_DEPTH = 50
_MAX_NODES = 50_000  # values in one document, aliases counted each time they are used ("billion laughs")


def _build(node: yaml.Node, path: Path, doc: YamlDoc, loader: yaml.SafeLoader, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError(f"nested deeper than {_MAX_DEPTH} levels (a recursive alias?)")
    if len(doc.values) >= _MAX_NODES:
        raise ValueError(f"more than {_MAX_NODES} values (too many aliases?)")
    doc.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                m = _mark(key_node)
                doc.problems.append(Problem(doc.file, m.line, m.column,
                                            "merge keys (<<) are not supported; write the keys out"))
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                m = _mark(key_node)
                doc.problems.append(Problem(doc.file, m.line, m.column, "expected a plain key (a name)"))
                continue
            if key in out:
                m, first = _mark(key_node), doc.keys[path + (key,)]
                doc.problems.append(Problem(
                    doc.file, m.line, m.column,
                    f"duplicate key {key!r} (first given at line {first.line}); keep one"))
                continue
            doc.keys[path + (key,)] = _mark(key_node)
            out[key] = _build(value_node, path + (key,), doc, loader, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, path + (i,), doc, loader, depth + 1) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
