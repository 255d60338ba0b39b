"""Nested structures (lists, tuples, dicts of leaves): flatten, map_structure, pack_sequence_as.

Models with several inputs or outputs take and give such structures, e.g. [x1, x2] or
{"image": x, "meta": m}. As in keras.tree, a dict is visited in sorted key order:

    flatten({"b": 1, "a": [2, 3]})                  # [2, 3, 1]
    map_structure(lambda v: v * 10, (1, [2]))       # (10, [20])
    pack_sequence_as({"b": 0, "a": 0}, [7, 8])      # {"a": 7, "b": 8}
"""

from __future__ import annotations


def is_nested(structure) -> bool:
    """True for a list, tuple or dict (a structure to look into), False for a leaf.

    Args:
        structure: any object.

    Returns:
        Whether `structure` is a list, tuple or dict.

    Example:
        >>> is_nested([1, 2]), is_nested({"a": 1}), is_nested(np.zeros(3)), is_nested("ab")
        (True, True, False, False)
    """
    return isinstance(structure, (list, tuple, dict))


def _children(structure) -> list:
    if isinstance(structure, dict):
        return [structure[k] for k in sorted(structure)]
    return list(structure)


def flatten(structure, is_leaf=None) -> list:
    """The leaves of structure, depth first (dicts by sorted key).

    Args:
        structure: a leaf, or a list, tuple or dict of structures.
        is_leaf: an optional predicate for structures to keep whole, e.g. shapes (None, 3).

    Returns:
        A list of the leaves.

    Example:
        >>> flatten({"b": 1, "a": [2, (3, 4)]})
        [2, 3, 4, 1]
        >>> flatten([(None, 3), (None, 5)], is_leaf=lambda s: isinstance(s, tuple))
        [(None, 3), (None, 5)]
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
    """The same structure with fn(leaf) in place of every leaf.

    Args:
        fn: a function of one leaf.
        structure: a leaf, or a list, tuple or dict of structures.
        is_leaf: an optional predicate for structures to keep whole, as in flatten.

    Returns:
        A structure of the same types (namedtuples included) holding fn's results.

    Example:
        >>> map_structure(lambda v: v * 10, (1, [2, {"k": 3}]))
        (10, [20, {'k': 30}])
    """
    if not is_nested(structure) or (is_leaf is not None and is_leaf(structure)):
        return fn(structure)
    return _rebuild(structure, [map_structure(fn, child, is_leaf)
                                for child in _children(structure)])


def pack_sequence_as(structure, leaves: list):
    """The structure of `structure` holding `leaves` (in flatten order).

    Args:
        structure: the structure to copy; its own leaves are ignored.
        leaves: as many values as `structure` has leaves, in flatten order.

    Returns:
        A new structure of the same shape holding `leaves`.

    Raises:
        ValueError: the number of leaves is not the structure's.

    Example:
        >>> pack_sequence_as({"b": 0, "a": [0, 0]}, [7, 8, 9])
        {'a': [7, 8], 'b': 9}
        >>> pack_sequence_as([0, 0], [1])
        Traceback (most recent call last):
        ...
        ValueError: pack_sequence_as: the structure has 2 leaves, got 1
    """
    leaves = list(leaves)
    count = len(flatten(structure))
    if count != len(leaves):
        raise ValueError(f"pack_sequence_as: the structure has {count} leaves, got {len(leaves)}")
    position = iter(leaves)
    return map_structure(lambda _: next(position), structure)
