"""A small, safe expression language for parameterized answers.

A formula such as ``4 * (I*H + H*H + 2*H)`` is parsed with `ast` and only
these are allowed: numbers, variable names, ``+ - * / // % **``, unary minus
and plus, parentheses, and calls of the functions in `FUNCTIONS` (plus the
constants `pi` and `e`). Everything else (attributes, subscripts, strings,
comparisons, lambdas, keyword arguments, ...) is rejected with a message that
names the offending piece and its column. Nothing is ever passed to `eval`.

Powers are bounded so that ``9**9**9`` cannot hang the grader.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from typing import Callable, Mapping

Number = int | float

MAX_LENGTH = 500  # characters in one formula
MAX_EXPONENT = 256  # |b| in a ** b
MAX_MAGNITUDE = 1e300  # any intermediate result


class ExprError(ValueError):
    """A formula that cannot be parsed or evaluated; `offset` is a 0-based column into it."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message = message
        self.offset = offset


def _round(x: Number, ndigits: Number | None = None) -> Number:
    return round(x) if ndigits is None else round(x, int(ndigits))


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


# name -> (function, fewest arguments, most arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    "sqrt": (math.sqrt, 1, 1),
    "exp": (math.exp, 1, 1),
    "log": (_log, 1, 2),
    "log2": (math.log2, 1, 1),
    "log10": (math.log10, 1, 1),
    "abs": (abs, 1, 1),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "round": (_round, 1, 2),
    "min": (min, 2, 16),
    "max": (max, 2, 16),
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)

_BINARY: dict[type, Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Number], Number]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}


@dataclass(frozen=True)
class Expr:
    """A checked formula. `names` are the variables it reads, with their first columns."""

    source: str
    tree: ast.Expression = field(repr=False, compare=False)
    names: dict[str, int] = field(default_factory=dict)  # variable -> 0-based column

    def evaluate(self, env: Mapping[str, Number]) -> Number:
        """The formula's value for these variables. Raises ExprError (never anything else)."""
        missing = [n for n in self.names if n not in env]
        if missing:
            raise ExprError(f"unknown variable {missing[0]!r}", self.names[missing[0]])
        try:
            value = _eval(self.tree.body, env)
        except ExprError:
            raise
        except ZeroDivisionError:
            raise ExprError("division by zero") from None
        except (ValueError, OverflowError, TypeError) as exc:
            raise ExprError(f"cannot evaluate: {exc}") from None
        return value


def parse(source: str) -> Expr:
    """Check `source` and return an `Expr`; raise ExprError for anything not allowed."""
    if not isinstance(source, str):
        raise ExprError("a formula must be a string")
    if len(source) > MAX_LENGTH:
        raise ExprError(f"the formula is longer than {MAX_LENGTH} characters")
    if not source.strip():
        raise ExprError("the formula is empty")
    try:
        tree = ast.parse(source.strip() if "\n" in source else source, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"not a valid formula: {exc.msg}", max((exc.offset or 1) - 1, 0)) from None
    names: dict[str, int] = {}
    _check(tree.body, names)
    return Expr(source, tree, names)


def _check(node: ast.AST, names: dict[str, int]) -> None:
    col = getattr(node, "col_offset", 0)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExprError(f"only numbers are allowed as constants, not {node.value!r}", col)
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise ExprError("a number in the formula is too large", col)
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExprError(f"{node.id!r} is a function; call it like {node.id}(x)", col)
        if node.id not in CONSTANTS:
            names.setdefault(node.id, col)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ExprError(f"operator not allowed (allowed: + - * / // % **)", col)
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise ExprError("only unary minus and plus are allowed", col)
        _check(node.operand, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExprError(f"unknown function {what!r} (allowed: {', '.join(sorted(FUNCTIONS))})", col)
        if node.keywords:
            raise ExprError("keyword arguments are not allowed", node.keywords[0].value.col_offset)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ExprError("*args are not allowed", arg.col_offset)
        _, lo, hi = FUNCTIONS[node.func.id]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ExprError(f"{node.func.id}() takes {want} arguments, got {len(node.args)}", col)
        for arg in node.args:
            _check(arg, names)
    else:
        kind = {ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Compare: "comparisons",
                ast.BoolOp: "and/or", ast.IfExp: "if-else", ast.Lambda: "lambda",
                ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
                ast.JoinedStr: "f-strings", ast.NamedExpr: ":="}.get(type(node), type(node).__name__)
        raise ExprError(f"{kind} not allowed in a formula (allowed: numbers, names, + - * / // % **, "
                        f"parentheses, {', '.join(sorted(FUNCTIONS))})", col)


def _checked(value: Number, col: int) -> Number:
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) > MAX_MAGNITUDE):
        raise ExprError("a value in the formula is too large (or not a finite number)", col)
    if isinstance(value, int) and value.bit_length() > 1000:
        raise ExprError("a value in the formula is too large", col)
    return value


def _eval(node: ast.AST, env: Mapping[str, Number]) -> Number:
    col = getattr(node, "col_offset", 0)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        value = env[node.id]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExprError(f"variable {node.id!r} is not a number", col)
        return value
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, env))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if isinstance(node.op, ast.Pow):
            if abs(right) > MAX_EXPONENT:
                raise ExprError(f"exponent {right} is too large (at most {MAX_EXPONENT})", col)
            if left == 0 and right < 0:
                raise ExprError("division by zero (0 to a negative power)", col)
            result = left ** right
            if isinstance(result, complex):
                raise ExprError("a negative number to a fractional power", col)
            return _checked(result, col)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ExprError(f"division by zero (in '{_SYMBOL[type(node.op)]}')", col)
        return _checked(_BINARY[type(node.op)](left, right), col)
    if isinstance(node, ast.Call):
        fn = FUNCTIONS[node.func.id][0]
        args = [_eval(a, env) for a in node.args]
        try:
            return _checked(fn(*args), col)
        except (ValueError, OverflowError) as exc:
            raise ExprError(f"{node.func.id}({', '.join(map(str, args))}): {exc}", col) from None
    raise ExprError("not allowed", col)  # unreachable after _check
