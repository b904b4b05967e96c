"""Jinja's sandbox for the manager's message templates, with bounds on the work a template may do.

A template is rendered inside the staff request that queues its message (taking a device in, a
checkout), so it must not be able to make that request slow. On top of ``ImmutableSandboxedEnvironment``
(no Python internals) every render gets a budget:

- at most MAX_STEPS steps: a loop round, a call (macro, method, ``range``...), a filter, an operator, an
  attribute or item lookup each take one; and at most TIME_BUDGET seconds of wall clock;
- no value larger than MAX_VALUE (characters of text, items of lists, nested ones counted every time they
  appear) and at most MAX_OUTPUT characters written;
- the operations that make a large value out of a small one in a single step are checked before they run:
  repetition (``'x' * n``), powers, ``range()`` (MAX_RANGE numbers), ``replace`` and ``join``, and numbers
  given to filters and text methods (paddings, widths: MAX_NUMBER_ARG); format widths are refused;
- recursive loops and the filters that pad or rewrap text (center, indent, wordwrap, format...) are not
  offered, nor ``lipsum``.

Going over a bound raises LimitExceeded (a Jinja SecurityError); crm.notifications.render turns it into a
refusal at save time and into the default wording at send time."""

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner, Namespace
from jinja2.visitor import NodeTransformer

MAX_STEPS = 10_000
TIME_BUDGET = 0.1  # seconds
MAX_VALUE = 20_000
MAX_OUTPUT = 20_000
MAX_RANGE = 1_000
MAX_NUMBER_ARG = 1_000
MAX_INT_BITS = 4_096  # about 1,200 digits: no number in a message needs more
MAX_EXPONENT = 100

# Filters whose output grows with a number or a text argument in ways not worth estimating, and which a
# message has no use for.
UNOFFERED_FILTERS = frozenset({"center", "indent", "wordwrap", "format", "urlize", "xmlattr", "pprint"})
UNOFFERED_STR_METHODS = frozenset({"translate", "maketrans", "expandtabs"})
# "%9999s", "%.9999f", "%*s" (width from the arguments) and "{:>9999}", "{:{w}}" (width from a field).
_WIDE_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d{4,}|\d*\.(?:\*|\d{4,}))")
_WIDE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*(?:\d{4,}|\{)")


class LimitExceeded(SecurityError):
    """A template went over one of the bounds; ``limit`` says which: steps, time, size, output, range,
    number."""

    def __init__(self, limit: str):
        super().__init__(f"the template goes over the {limit} limit")
        self.limit = limit


@dataclass
class _Budget:
    steps_left: int
    deadline: float

    def step(self) -> None:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise LimitExceeded("steps")
        if time.monotonic() > self.deadline:
            raise LimitExceeded("time")


_budget: ContextVar[_Budget | None] = ContextVar("message_template_budget", default=None)


def _step() -> None:
    budget = _budget.get()
    if budget is None:  # compiled outside render_bounded: only constant folding, which is bounded
        return
    budget.step()


def weight(value: Any, limit: int = MAX_VALUE) -> int:
    """How big a value is: characters of text, items of containers (a list that holds one list ten times
    counts it ten times, as printing it would), bytes of integers. Counting stops past ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 8 + 1
        elif isinstance(item, list | tuple | set | frozenset | dict):
            total += len(item) + 1
            if total <= limit:
                stack.extend(item.items() if isinstance(item, dict) else item)
        elif isinstance(item, Namespace):
            total += 1
            stack.append(dict(item._Namespace__attrs))  # what its repr prints
        else:
            total += 1
    return total


def _checked(value: Any) -> Any:
    if weight(value) > MAX_VALUE:
        raise LimitExceeded("size")
    return value


def _check_numbers(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER_ARG:
            raise LimitExceeded("number")


def _check_replace(text: str, old: Any = "", new: Any = "", count: Any = -1) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > MAX_VALUE:
        raise LimitExceeded("size")


def _check_join(separator: Any, items: list) -> None:
    if len(str(separator)) * max(len(items) - 1, 0) + sum(weight(item) for item in items) > MAX_VALUE:
        raise LimitExceeded("size")


def _bounded_range(*args: int) -> range:
    _check_numbers(args[2:])  # a step of 10**9 is harmless, but no template needs it
    numbers = range(*args)
    try:
        too_long = len(numbers) > MAX_RANGE
    except OverflowError:
        too_long = True
    if too_long:
        raise LimitExceeded("range")
    return numbers


def _bounded_filter(name: str, func: Callable) -> Callable:
    """The filter counted as a step, its number arguments bounded, ``replace`` and ``join`` estimated
    before they run, and its result checked."""
    passes_first = hasattr(func, "jinja_pass_arg")  # context, eval context or environment comes first

    @wraps(func)  # keeps jinja_pass_arg
    def bounded(*args, **kwargs):
        _step()
        head, value, rest = args[:passes_first], args[passes_first], list(args[passes_first + 1:])
        _check_numbers([*rest, *kwargs.values()])
        if name == "replace":
            _check_replace(str(value), *rest[:3], **{k: v for k, v in kwargs.items() if k in ("old", "new", "count")})
        elif name == "join":
            value = list(value)
            _check_join(rest[0] if rest else kwargs.get("d", ""), value)
        return _checked(func(*head, value, *rest, **kwargs))

    return bounded


def _checked_filter(value: Any) -> Any:
    return _checked(value)


def _call(name: str, *args: nodes.Expr) -> nodes.Call:
    return nodes.Call(nodes.EnvironmentAttribute(name), list(args), [], None, None)


class _Bounder(NodeTransformer):
    """Rewrites the parsed template so that what the sandbox's hooks do not see is checked too: loop
    rounds are counted, and ``~``, list, tuple and dict literals and {% set %} blocks are measured."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        if node.recursive:
            raise SecurityError("recursive loops are not allowed in message templates")
        self.generic_visit(node)
        node.iter = _call("counted_rounds", node.iter)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return _call("bounded_concat", *node.nodes)

    def _literal(self, node: nodes.Expr) -> nodes.Expr:
        self.generic_visit(node)
        return node if getattr(node, "ctx", "load") != "load" else _call("checked_value", node)

    visit_List = visit_Tuple = visit_Dict = _literal

    def visit_AssignBlock(self, node: nodes.AssignBlock) -> nodes.AssignBlock:
        self.generic_visit(node)
        node.filter = nodes.Filter(node.filter, "_checked", [], [], None, None)
        return node


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame=None) -> None:
        _Bounder().visit(node)
        super().visit_Template(node, frame)


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with the bounds above (hooks: call, call_binop, getattr, getitem, wrap_str_format)."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self.globals = {"range": _bounded_range, "dict": dict, "cycler": Cycler, "joiner": Joiner,
                        "namespace": Namespace}
        self.filters = {name: _bounded_filter(name, func) for name, func in self.filters.items()
                        if name not in UNOFFERED_FILTERS}
        self.filters["_checked"] = _checked_filter

    # Called from the rewritten templates (see _Bounder).
    def counted_rounds(self, iterable: Iterable) -> Iterator:
        for item in iterable:
            _step()
            yield item

    def bounded_concat(self, *parts: Any) -> str:
        texts = [str(part) for part in parts]
        if sum(map(len, texts)) > MAX_VALUE:
            raise LimitExceeded("size")
        return "".join(texts)

    def checked_value(self, value: Any) -> Any:
        return _checked(value)

    # The sandbox's hooks.
    def call(self, context, obj, /, *args, **kwargs):
        _step()
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):
            method = getattr(obj, "__name__", "")
            if method in UNOFFERED_STR_METHODS:
                raise SecurityError(f"str.{method} is not available in message templates")
            _check_numbers([*args, *kwargs.values()])
            if method == "replace":
                _check_replace(owner, *args[:3])
            elif method == "join" and args:
                args = (list(args[0]), *args[1:])
                _check_join(owner, args[0])
        return _checked(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context, operator: str, left, right):
        _step()
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and weight(seq) * count > MAX_VALUE:
                    raise LimitExceeded("size")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise LimitExceeded("size")
        elif operator == "**" and isinstance(right, int | float):
            if abs(right) > MAX_EXPONENT or (isinstance(left, int) and left.bit_length() * abs(right) > MAX_INT_BITS):
                raise LimitExceeded("size")
        elif operator == "%" and isinstance(left, str) and _WIDE_PERCENT.search(left):
            raise LimitExceeded("number")
        return _checked(super().call_binop(context, operator, left, right))

    def getattr(self, obj, attribute):
        _step()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _step()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value):
        """``text.format`` as the sandbox hands it out, refused when ``text`` asks for a width."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None and _WIDE_FORMAT.search(value.__self__):
            raise LimitExceeded("number")
        return wrapped


_env = MessageSandbox()


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return _env.from_string(source)


def render_bounded(source: str, variables: dict) -> str:
    """``source`` rendered with ``variables`` within the bounds; LimitExceeded when it goes over one (and
    the template's own errors, as Jinja raises them)."""
    token = _budget.set(_Budget(MAX_STEPS, time.monotonic() + TIME_BUDGET))
    try:
        parts, size = [], 0
        for chunk in _compiled(source).generate(**variables):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise LimitExceeded("output")
            parts.append(chunk)
        return "".join(parts)
    finally:
        _budget.reset(token)
