"""``drop`` and ``secret``: the column never reaches the mirror.

They have no operator on values: ``apply`` leaves such columns out of every batch, and
secrets are not even selected from the source. Asking for one is a programming error.
"""

from __future__ import annotations

from safemirror.policy.model import Action, ColumnPolicy
from safemirror.transforms.registry import ColumnOp, TransformContext, operator


def _refuse(table: str, column: str, spec: ColumnPolicy, ctx: TransformContext) -> ColumnOp:
    raise AssertionError(f"{table}.{column} is {spec.action.value}: it must never be transformed")


operator(Action.DROP)(_refuse)
operator(Action.SECRET)(_refuse)
