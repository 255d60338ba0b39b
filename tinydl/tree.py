"""Nested structures (lists, tuples, dicts of leaves): flatten, map_structure, pack_sequence_as.

Models with several inputs or outputs take and give such structures, e.g. [x1, x2] or
{"image": x, "meta": m}. As in keras.tree, a dict is visited in sorted key order:

    flatten({"b": 1, "a": [2, 3]})                  # [2, 3, 1]
    map_structure(lambda v: v * 10, (1, [2]))       # (10, [20])
    pack_sequence_as({"b": 0, "a": 0}, [7, 8])      # {"a": 7, "b": 8}
"""

from __future__ import annotations


def is_nested(structure) -> bool:
    """True for a list, tuple or dict (a structure to look into), False for a leaf."""
    return isinstance(structure, (list, tuple, dict))


def _children(structure) -> list:
    if isinstance(structure, dict):
        return [structure[k] for k in sorted(structure)]
    return list(structure)


def flatten(structure, is_leaf=None) -> list:
    """The leaves of structure, depth first (dicts by sorted key).

    is_leaf: an optional predicate for structures to keep whole, e.g. shapes (None, 3).
    """
    if not is_nested(structure) or (is_leaf is not None and is_leaf(structure)):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child, is_leaf)]


def _rebuild(structure, children: list):
    if isinstance(structure, dict):
        return type(structure)((k, v) for k, v in zip(sorted(structure), children))
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # a namedtuple
        return type(structure)(*children)
    return type(structure)(children)


def map_structure(fn, structure, is_leaf=None):
    """The same structure with fn(leaf) in place of every leaf (is_leaf as in flatten)."""
    if not is_nested(structure) or (is_leaf is not None and is_leaf(structure)):
        return fn(structure)
    return _rebuild(structure, [map_structure(fn, child, is_leaf)
                                for child in _children(structure)])


def pack_sequence_as(structure, leaves: list):
    """The structure of `structure` holding `leaves` (in flatten order).

    Raises:
        ValueError: the number of leaves is not the structure's.
    """
    leaves = list(leaves)
    count = len(flatten(structure))
    if count != len(leaves):
        raise ValueError(f"pack_sequence_as: the structure has {count} leaves, got {len(leaves)}")
    position = iter(leaves)
    return map_structure(lambda _: next(position), structure)
