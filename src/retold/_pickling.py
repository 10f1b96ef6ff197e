"""Fast pickling of frozen slotted dataclasses, which cross process boundaries by the hundred per document.

Python pickles a ``@dataclass(slots=True)`` through generated ``__getstate__``/``__setstate__`` methods that
call `dataclasses.fields` for every object; a document's features hold dozens of such objects (one per sentence),
and the scan measured ~7 % of its CPU time there. `by_fields` pickles an instance as a call of its class with its
field values instead: 3x faster to dump, 2x faster to load, and a few percent smaller.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def by_fields(cls: type[T]) -> type[T]:
    """Class decorator (put above ``@dataclass(frozen=True, slots=True)``): pickle as ``cls(*fields)``.

    Only for dataclasses whose every slot is an ``__init__`` argument, in slot order.
    """
    names: tuple[str, ...] = tuple(cls.__slots__)  # type: ignore[attr-defined]
    init = cls.__init__.__code__.co_varnames[1 : len(names) + 1]
    if init != names:
        raise TypeError(f"{cls.__name__}: slots {names} are not the __init__ arguments {init}")
    get = attrgetter(*names)
    if len(names) == 1:

        def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
            return cls, (get(self),)

    else:

        def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
            return cls, get(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls
