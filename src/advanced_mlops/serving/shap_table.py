"""CatBoost's exact SHAP values of each tree's leaves, kept for the model's life.

For trees of one depth per level (CatBoost's default, oblivious trees) a record's SHAP values are
the sum, over the trees, of values that depend only on the leaf it reaches in each. CatBoost
computes those per call (`shap_mode="UsePreCalc"`: 5.5 ms for a 105-tree model) or, for a few
records, walks every tree for each (~0.4 ms a record), and its Python API keeps neither. This
table keeps them: a record costs a leaf lookup (0.04 ms for one, 0.08 for six) and the values are
CatBoost's own, equal to `get_feature_importance(type="ShapValues")` (tested).

How a leaf's values are had from CatBoost: a second instance of the model (loaded again: a copy
refuses to change) with every tree's leaf values set to 0 but one tree's, asked for the SHAP
values of a record that reaches that leaf. The table fills from the records it is asked about, a
few trees per call (one CatBoost call each); until it knows every leaf of a call's records, that
call's values come from CatBoost's own call, so no answer waits for more than a few extra calls
while the table fills (bench/README.md).
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from advanced_mlops.inference import shap_values


class ShapTable:
    """`table(pool)` -> the pool's exact SHAP values, as `inference.shap_values` gives them."""

    def __init__(self, model: Any, trees_per_call: int = 4) -> None:
        self._model = model
        self.trees_per_call = trees_per_call
        counts = np.asarray(model.get_tree_leaf_counts())
        self._leaf_values = np.asarray(model.get_leaf_values())
        dims = self._leaf_values.size // int(counts.sum())
        bounds = np.concatenate([[0], np.cumsum(counts * dims)]).astype(int)
        self._slices = [slice(a, b) for a, b in itertools.pairwise(bounds)]
        self._trees = np.arange(len(counts))
        features = len(model.feature_names_)
        self._table = np.zeros((len(counts), int(counts.max()), dims, features))
        self._known = np.zeros((len(counts), int(counts.max())), dtype=bool)
        self._expected: np.ndarray | None = None
        self._one_tree = _reloaded(model)
        self._lock = threading.Lock()

    @staticmethod
    def supports(model: Any) -> bool:
        """Oblivious trees only: elsewhere a tree's values depend on more than the leaf."""
        return bool(model.get_all_params().get("grow_policy", "SymmetricTree") == "SymmetricTree")

    def __call__(self, pool: Any) -> np.ndarray:
        leaves = np.asarray(self._model.calc_leaf_indexes(pool), dtype=np.intp)  # [records, trees]
        with self._lock:
            if self._expected is None:
                self._expected = shap_values(self._model, pool.slice([0]))[0, :, -1:]
            unknown = ~self._known[self._trees[np.newaxis, :], leaves]
            if unknown.any():
                self._learn(pool, leaves, unknown)
                if not self._known[self._trees[np.newaxis, :], leaves].all():
                    return shap_values(self._model, pool)  # CatBoost's own while the table fills
            values = self._table[self._trees[np.newaxis, :], leaves].sum(axis=1)
            expected = np.broadcast_to(self._expected, (*values.shape[:2], 1))
        return np.concatenate([values, expected], axis=2)

    @property
    def known_leaves(self) -> int:
        return int(self._known.sum())

    def _learn(self, pool: Any, leaves: np.ndarray, unknown: np.ndarray) -> None:
        """Ask CatBoost for the `unknown` leaves of up to `trees_per_call` trees, one call per
        tree, those most of the records miss first."""
        wanting = np.argsort(-unknown.sum(axis=0), kind="stable")[: self.trees_per_call]
        for tree in wanting[unknown[:, wanting].any(axis=0)]:
            first: dict[int, int] = {}
            for record in np.flatnonzero(unknown[:, tree]):
                first.setdefault(int(leaves[record, tree]), int(record))
            only = np.zeros_like(self._leaf_values)
            only[self._slices[tree]] = self._leaf_values[self._slices[tree]]
            self._one_tree.set_leaf_values(only)
            found = shap_values(self._one_tree, pool.slice(list(first.values())))
            for row, leaf in enumerate(first):
                self._table[tree, leaf] = found[row, :, :-1]
                self._known[tree, leaf] = True


def _reloaded(model: Any) -> Any:
    """Another instance of `model`, loaded from its file: one whose leaf values may be set."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.cbm"
        model.save_model(str(path))
        other = type(model)()
        other.load_model(str(path))
    return other
