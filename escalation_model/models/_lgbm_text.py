"""LightGBM's model text, checked before LightGBM's own parser sees it.

A model file's ``Booster`` holds its trees as LightGBM's text format, which LightGBM's C++
parser trusts: an index out of range reads memory it should not, or crashes the process (a
notebook's kernel with it). :func:`check_model_text` reads the text into plain lists and
checks every count, index and boundary against the tree's own sizes and the number of
features, and refuses what a model of this library never holds (categorical splits,
linear trees, more than one class), so that only a well-formed forest reaches LightGBM.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

__all__ = ["MAX_LEAVES", "MAX_TREES", "check_model_text"]

#: Limits far above any model of this library (``num_leaves`` 15, 200 to 400 trees).
MAX_LEAVES = 131_072
MAX_TREES = 100_000
MAX_FEATURES = 100_000

_TREE_INT_LISTS = ("split_feature", "decision_type", "left_child", "right_child")
_OPTIONAL_INTERNAL = ("split_gain", "internal_value", "internal_weight", "internal_count")
_OPTIONAL_LEAF = ("leaf_weight", "leaf_count")


class ModelTextError(ValueError):
    """The model text is not a forest this library writes; the message says why."""


def _ints(text: str, key: str) -> list[int]:
    try:
        return [int(x) for x in text.split()]
    except ValueError:
        raise ModelTextError(f"{key} holds a value that is not a whole number") from None


def _floats(text: str, key: str, *, finite: bool = True) -> list[float]:
    try:
        values = [float(x) for x in text.split()]
    except ValueError:
        raise ModelTextError(f"{key} holds a value that is not a number") from None
    if finite and not all(math.isfinite(v) for v in values):
        raise ModelTextError(f"{key} holds a value that is not finite")
    return values


def _blocks(lines: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each ``Tree=k`` block as (k, its key=value lines), up to ``end of trees``."""
    current: dict[str, str] | None = None
    index = -1
    for line in lines:
        if line.startswith("Tree="):
            if current is not None:
                yield index, current
            try:
                index = int(line[5:])
            except ValueError:
                raise ModelTextError("a tree header is not 'Tree=<number>'") from None
            current = {}
        elif line.startswith("end of trees"):
            if current is not None:
                yield index, current
            return
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            if key in current:
                raise ModelTextError(f"tree {index} repeats '{key}'")
            current[key] = value
    raise ModelTextError("the text has no 'end of trees' line")


def _check_structure(index: int, leaves: int, left: list[int], right: list[int]) -> None:
    """Every internal node and every leaf reached exactly once from the root."""
    seen_nodes, seen_leaves = set(), set()
    stack = [0]
    while stack:
        node = stack.pop()
        if node in seen_nodes:
            raise ModelTextError(f"tree {index} reaches node {node} twice (a cycle)")
        seen_nodes.add(node)
        for child in (left[node], right[node]):
            if child >= 0:
                if not 0 < child < leaves - 1:
                    raise ModelTextError(f"tree {index} has a child index out of range")
                stack.append(child)
            else:
                leaf = ~child
                if not 0 <= leaf < leaves or leaf in seen_leaves:
                    raise ModelTextError(f"tree {index} has a leaf index out of range or twice")
                seen_leaves.add(leaf)
    if len(seen_nodes) != leaves - 1 or len(seen_leaves) != leaves:
        raise ModelTextError(f"tree {index} has nodes or leaves that no path reaches")


def _check_tree(index: int, tree: dict[str, str], n_features: int) -> None:
    if tree.get("num_cat", "0").strip() != "0":
        raise ModelTextError(f"tree {index} has categorical splits, which this library never fits")
    if tree.get("is_linear", "0").strip() != "0":
        raise ModelTextError(f"tree {index} is a linear tree, which this library never fits")
    try:
        leaves = int(tree["num_leaves"])
        _floats(tree["shrinkage"], "shrinkage")
        values = _floats(tree["leaf_value"], "leaf_value")
    except (KeyError, ValueError):
        raise ModelTextError(f"tree {index} lacks num_leaves, shrinkage or leaf_value") from None
    if not 1 <= leaves <= MAX_LEAVES or len(values) != leaves:
        raise ModelTextError(f"tree {index}: num_leaves and leaf_value do not agree")
    for key in _OPTIONAL_LEAF:
        if key in tree and len(_floats(tree[key], key)) != leaves:
            raise ModelTextError(f"tree {index}: {key} does not hold one value per leaf")
    if leaves == 1:
        return
    lists: dict[str, list[int]] = {}
    for key in _TREE_INT_LISTS:
        if key not in tree:
            raise ModelTextError(f"tree {index} lacks {key}")
        lists[key] = _ints(tree[key], key)
    thresholds = _floats(tree.get("threshold", ""), "threshold", finite=False)
    if any(math.isnan(t) for t in thresholds):
        raise ModelTextError(f"tree {index}: a threshold is not a number")
    if any(len(v) != leaves - 1 for v in lists.values()) or len(thresholds) != leaves - 1:
        raise ModelTextError(f"tree {index}: a list of splits does not hold num_leaves - 1 values")
    for key in _OPTIONAL_INTERNAL:
        if key in tree and len(_floats(tree[key], key, finite=False)) != leaves - 1:
            raise ModelTextError(f"tree {index}: {key} does not hold one value per split")
    if any(not 0 <= f < n_features for f in lists["split_feature"]):
        raise ModelTextError(f"tree {index} splits on a feature the model does not have")
    for d in lists["decision_type"]:
        if not 0 <= d < 16 or d & 1 or (d >> 2) & 3 == 3:
            raise ModelTextError(f"tree {index} has a decision type LightGBM does not define")
    _check_structure(index, leaves, lists["left_child"], lists["right_child"])


def _header(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        if line.startswith("Tree="):
            break
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def check_model_text(text: str, n_features: int | None = None) -> int:
    """Check LightGBM model text; return its number of features. ``n_features``, where
    known (the classifier's own count), must agree with the text.

    Raises
    ------
    ModelTextError
        Naming what is wrong, before LightGBM parses anything.

    Examples
    --------
    >>> text = ("tree\\nversion=v4\\nnum_class=1\\nnum_tree_per_iteration=1\\n"
    ...     "max_feature_idx=1\\nfeature_names=a b\\ntree_sizes=137\\n\\nTree=0\\nnum_leaves=2\\n"
    ...     "num_cat=0\\nsplit_feature=1\\nthreshold=0.5\\ndecision_type=2\\nleft_child=-1\\n"
    ...     "right_child=-2\\nleaf_value=0.1 0.2\\nshrinkage=1\\n\\nend of trees\\n")
    >>> check_model_text(text)
    2
    >>> try:
    ...     check_model_text(text.replace("split_feature=1", "split_feature=7"))
    ... except ModelTextError as exc:
    ...     print(exc)
    tree 0 splits on a feature the model does not have
    """
    if not isinstance(text, str) or not text.startswith("tree"):
        raise ModelTextError("it is not LightGBM model text")
    lines = text.split("\n")
    head = _header(lines)
    try:
        n = int(head["max_feature_idx"]) + 1
        classes, per_iteration = int(head["num_class"]), int(head["num_tree_per_iteration"])
    except (KeyError, ValueError):
        raise ModelTextError(
            "the header lacks max_feature_idx, num_class or its tree count"
        ) from None
    if not 1 <= n <= MAX_FEATURES or classes != 1 or per_iteration != 1:
        raise ModelTextError("the header's feature or class counts are not this library's")
    if len(head.get("feature_names", "").split()) != n:
        raise ModelTextError("feature_names does not name max_feature_idx + 1 features")
    if n_features is not None and n != n_features:
        raise ModelTextError(f"the trees use {n} features but the classifier has {n_features}")
    trees = 0
    for index, tree in _blocks(lines):
        if index != trees or trees >= MAX_TREES:
            raise ModelTextError("the trees are not numbered 0, 1, 2, ... or are too many")
        _check_tree(index, tree, n)
        trees += 1
    _check_tree_sizes(text, head.get("tree_sizes", ""), trees)
    return n


def _check_tree_sizes(text: str, sizes: str, trees: int) -> None:
    """LightGBM jumps through the text by ``tree_sizes``: each must be the exact length
    of its tree's block, or the parser reads where no tree is."""
    if not text.isascii():
        raise ModelTextError("the text holds characters LightGBM never writes")
    declared = _ints(sizes, "tree_sizes")
    starts = [i for i in _line_starts(text) if text.startswith("Tree=", i)]
    end = text.find("\nend of trees")
    if len(declared) != trees or len(starts) != trees or end < 0:
        raise ModelTextError("tree_sizes does not give one size per tree")
    actual = [b - a for a, b in zip(starts, [*starts[1:], end + 1], strict=True)]
    if declared != actual:
        raise ModelTextError("tree_sizes does not match the trees' lengths")


def _line_starts(text: str) -> Iterator[int]:
    yield 0
    i = text.find("\n")
    while i >= 0:
        yield i + 1
        i = text.find("\n", i + 1)
