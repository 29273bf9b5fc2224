"""Read the data inside a Python pickle without unpickling it: seized pickles are never executed.

``pickle.loads`` runs whatever callables a pickle names (``REDUCE``, ``NEWOBJ``, ``BUILD``...), so a seized
file could run code on the evidence server. This reader walks the opcodes with ``pickletools.genops``
(which only parses) and evaluates a small stack machine over plain data: strings, bytes, numbers, lists,
tuples, dicts, sets and the memo. A callable is never imported or called: ``GLOBAL`` becomes a ``Global``
name and ``REDUCE``/``NEWOBJ`` a ``Call`` record of what *would* have been called, with its arguments, so
the caller can report it. NumPy arrays, which DeepFaceLab pickles, are recognised by the shape of their
``_reconstruct`` call and rebuilt with ``numpy.frombuffer`` from the raw bytes and dtype string.
"""

import pickletools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_OPS = 1_000_000  # a pickle with more opcodes than this is refused (DeepFaceLab's have a few hundred)


class PickleUnreadable(ValueError):
    """The bytes are not a pickle this reader can walk; the message says where it stopped."""


@dataclass(frozen=True)
class Global:
    """A name the pickle imports (``module.qualname``); never imported here."""

    module: str
    name: str

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class Call:
    """What unpickling would have called, with the arguments it would have passed; never called here."""

    callable: Any
    args: Any
    state: Any = None

    def __str__(self) -> str:
        return f"{self.callable}(…)"


@dataclass
class Reading:
    """The data a pickle holds, and every callable it would have invoked on ``pickle.loads``."""

    value: Any
    calls: list[str] = field(default_factory=list)


# Callables that only rebuild plain data in pickles NumPy and Python write; anything else is reported.
DATA_CALLABLES = frozenset(
    {
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.dtype",
        "numpy.core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "numpy._core.multiarray.scalar",
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "collections.OrderedDict",
        "copy_reg._reconstructor",
        "copyreg._reconstructor",
    }
)

_MARK = object()


def read_pickle(data: bytes) -> Reading:
    """The plain data in ``data`` and the callables it names; raises PickleUnreadable."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    calls: list[str] = []
    try:
        for count, (opcode, arg, _pos) in enumerate(pickletools.genops(data)):
            if count > MAX_OPS:
                raise PickleUnreadable(f"more than {MAX_OPS} opcodes")
            if opcode.name == "STOP":
                return Reading(value=_finish(stack.pop() if stack else None), calls=calls)
            _step(opcode.name, arg, stack, memo, calls)
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, PickleUnreadable):
            raise
        raise PickleUnreadable(f"{type(exc).__name__}: {exc}") from exc
    raise PickleUnreadable("no STOP opcode: the pickle is truncated")


def _pop_mark(stack: list[Any]) -> list[Any]:
    items: list[Any] = []
    while True:
        item = stack.pop()
        if item is _MARK:
            items.reverse()
            return items
        items.append(item)


def _step(name: str, arg: Any, stack: list[Any], memo: dict[int, Any], calls: list[str]) -> None:
    if name in {"PROTO", "FRAME"}:
        return
    if name in {
        "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
        "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
        "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    }:  # fmt: skip
        stack.append(arg)
    elif name == "BYTEARRAY8":
        stack.append(bytes(arg))
    elif name == "NONE":
        stack.append(None)
    elif name in {"NEWTRUE", "NEWFALSE"}:
        stack.append(name == "NEWTRUE")
    elif name == "MARK":
        stack.append(_MARK)
    elif name == "EMPTY_DICT":
        stack.append({})
    elif name in {"EMPTY_LIST", "EMPTY_SET"}:
        stack.append([])
    elif name == "EMPTY_TUPLE":
        stack.append(())
    elif name == "DICT":
        items = _pop_mark(stack)
        stack.append(_pairs_to_dict(items))
    elif name in {"LIST", "FROZENSET"}:
        stack.append(_pop_mark(stack))
    elif name == "TUPLE":
        stack.append(tuple(_pop_mark(stack)))
    elif name in {"TUPLE1", "TUPLE2", "TUPLE3"}:
        size = int(name[-1])
        items = stack[-size:]
        del stack[-size:]
        stack.append(tuple(items))
    elif name == "SETITEM":
        value, key = stack.pop(), stack.pop()
        _set_item(stack[-1], key, value)
    elif name == "SETITEMS":
        items = _pop_mark(stack)
        for key, value in zip(items[::2], items[1::2], strict=True):
            _set_item(stack[-1], key, value)
    elif name == "APPEND":
        value = stack.pop()
        _extend(stack[-1], [value])
    elif name in {"APPENDS", "ADDITEMS"}:
        items = _pop_mark(stack)
        _extend(stack[-1], items)
    elif name in {"PUT", "BINPUT", "LONG_BINPUT"}:
        memo[int(arg)] = stack[-1]
    elif name == "MEMOIZE":
        memo[len(memo)] = stack[-1]
    elif name in {"GET", "BINGET", "LONG_BINGET"}:
        stack.append(memo[int(arg)])
    elif name == "POP":
        stack.pop()
    elif name == "POP_MARK":
        _pop_mark(stack)
    elif name == "DUP":
        stack.append(stack[-1])
    elif name == "GLOBAL":
        module, _, qualname = str(arg).partition(" ")
        stack.append(Global(module, qualname))
    elif name == "STACK_GLOBAL":
        qualname, module = stack.pop(), stack.pop()
        stack.append(Global(str(module), str(qualname)))
    elif name == "REDUCE":
        args, func = stack.pop(), stack.pop()
        calls.append(str(func))
        stack.append(Call(func, args))
    elif name in {"NEWOBJ", "NEWOBJ_EX"}:
        if name == "NEWOBJ_EX":
            stack.pop()  # keyword arguments
        args, cls = stack.pop(), stack.pop()
        calls.append(f"{cls}.__new__")
        stack.append(Call(cls, args))
    elif name in {"OBJ", "INST"}:
        items = _pop_mark(stack)
        cls = Global(*str(arg).split(" ", 1)) if name == "INST" else items.pop(0)
        calls.append(str(cls))
        stack.append(Call(cls, tuple(items)))
    elif name == "BUILD":
        state = stack.pop()
        target = stack[-1]
        if isinstance(target, Call):
            target.state = state
            calls.append(f"{target.callable}.__setstate__")
    elif name in {"PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4"}:
        if name == "BINPERSID":
            stack.pop()
        calls.append(f"persistent/extension reference ({name})")
        stack.append(Call(Global("pickle", name), arg))
    else:
        raise PickleUnreadable(f"opcode {name} is not supported")


def _pairs_to_dict(items: list[Any]) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for key, value in zip(items[::2], items[1::2], strict=True):
        _set_item(result, key, value)
    return result


def _set_item(target: Any, key: Any, value: Any) -> None:
    if isinstance(target, dict):
        target[key if isinstance(key, str | int | float | bool | bytes | None) else str(key)] = value


def _extend(target: Any, values: list[Any]) -> None:
    if isinstance(target, list):
        target.extend(values)


def _finish(value: Any) -> Any:
    """Turn recognisable bytes and NumPy reconstructions into values; leave every other call as its record."""
    if isinstance(value, dict):
        return {k: _finish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finish(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_finish(v) for v in value)
    if isinstance(value, Call):
        plain = _as_bytes(value)
        if plain is not None:
            return plain
        array = _as_array(value)
        if array is not None:
            return array
    return value


def _as_bytes(value: Any) -> bytes | None:
    """Bytes as protocols 0–2 write them: ``_codecs.encode(text, "latin1")``."""
    if isinstance(value, bytes):
        return value
    if not (isinstance(value, Call) and str(value.callable) == "_codecs.encode"):
        return None
    args = value.args
    if (
        isinstance(args, tuple)
        and len(args) == 2
        and isinstance(args[0], str)
        and args[1] in {"latin1", "latin-1"}
    ):
        return args[0].encode("latin-1")
    return None


def _dtype(value: Any) -> np.dtype | None:
    """A plain (no Python objects) dtype from a ``numpy.dtype(code, …)`` call and its byte-order state."""
    if not (
        isinstance(value, Call) and str(value.callable) == "numpy.dtype" and isinstance(value.args, tuple)
    ):
        return None
    code = value.args[0] if value.args else None
    order = value.state[1] if isinstance(value.state, tuple) and len(value.state) > 1 else "="
    if not isinstance(code, str):
        return None
    try:
        dtype = np.dtype(code).newbyteorder(">" if order == ">" else "<" if order == "<" else "=")
    except (TypeError, ValueError):
        return None
    return None if dtype.hasobject else dtype


def _as_array(call: Call) -> np.ndarray | None:
    """An ndarray from NumPy's pickle forms, rebuilt from raw bytes; None for anything else."""
    name = str(call.callable)
    if name.endswith("multiarray._reconstruct"):  # protocols 0–4: _reconstruct(...) then BUILD state
        state = call.state
        if not (isinstance(state, tuple) and len(state) == 5):
            return None
        _version, shape, dtype_call, fortran, raw = state
        order = "F" if fortran else "C"
    elif name.endswith("numeric._frombuffer") and isinstance(call.args, tuple) and len(call.args) == 4:
        raw, dtype_call, shape, order = call.args  # protocol 5
    else:
        return None
    data, dtype = _as_bytes(raw), _dtype(dtype_call)
    if data is None or dtype is None or not isinstance(shape, tuple) or order not in {"C", "F"}:
        return None
    if not all(isinstance(n, int) for n in shape):
        return None
    try:
        return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if order == "F" else "C")
    except ValueError:
        return None
