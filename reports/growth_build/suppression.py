"""Which student-group pairs, and which skills of them, are suppressed at every node of a unit.

The rules are reports/growth/'s (``is_breakdown_suppressed``, ``nested_breakdown_suppression``);
this module only applies them over the hierarchy district × unit → school × unit → classroom
unit, from the counts the rebuild read (sql/suppression_counts.sql), top-down: a pair too small
on its own is hidden, and so is whatever lets a hidden value be worked out by subtracting shown
ones from a total above it. A skill's pair is also hidden wherever the whole pair is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reports import growth

# (level, unit id, node id): a classroom unit, a school × unit or the district × unit.
NodeKey = tuple[str, int, int]
CLASSROOM_UNIT = "classroom_unit"
SCHOOL = "school"
DISTRICT = "district"


@dataclass(frozen=True)
class Node:
    level: str
    unit_id: int
    node_id: int
    school_id: int | None  # the school a classroom unit (or school) belongs to

    @property
    def key(self) -> NodeKey:
        return (self.level, self.unit_id, self.node_id)


@dataclass(frozen=True)
class Flag:
    """One node's pair for one student group: whether it is hidden, and which skills are."""

    node: NodeKey
    student_group_id: int
    is_hidden: bool
    hidden_codes: tuple[str, ...]


class Counts:
    """Complete students in a student group and in the rest, per node, overall (code None) and
    per skill code; whatever was not counted is 0."""

    def __init__(self, rows: Iterable[tuple[str, int, int, int, str | None, str, int]]) -> None:
        self._n: dict[tuple[NodeKey, int, str | None, str], int] = {}
        self.codes: defaultdict[int, set[str]] = defaultdict(set)
        for level, unit_id, node_id, group_id, code, part, n in rows:
            self._n[((level, unit_id, node_id), group_id, code, part)] = n
            if code is not None:
                self.codes[unit_id].add(code)

    def pair(self, node: NodeKey, group_id: int, code: str | None) -> tuple[int, int]:
        return (
            self._n.get((node, group_id, code, "group"), 0),
            self._n.get((node, group_id, code, "rest"), 0),
        )


def suppression_flags(
    *, nodes: Iterable[Node], counts: Counts, group_ids: Sequence[int], minimum_n: int
) -> list[Flag]:
    """A flag for every node and student group of ``nodes`` (every node of the units being
    built: their rows are written from these flags)."""
    by_unit: defaultdict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        by_unit[node.unit_id].append(node)
    flags: list[Flag] = []
    for unit_id, unit_nodes in sorted(by_unit.items()):
        codes = sorted(counts.codes[unit_id])
        for group_id in group_ids:
            flags += _unit_flags(unit_nodes, counts, group_id, codes, minimum_n)
    return flags


def _unit_flags(
    nodes: list[Node], counts: Counts, group_id: int, codes: list[str], minimum_n: int
) -> list[Flag]:
    [district] = [node for node in nodes if node.level == DISTRICT]
    schools = sorted((node for node in nodes if node.level == SCHOOL), key=lambda n: n.node_id)
    classes: defaultdict[int | None, list[Node]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: n.node_id):
        if node.level == CLASSROOM_UNIT:
            classes[node.school_id].append(node)

    hidden: dict[tuple[NodeKey, str | None], bool] = {}
    for code in [None, *codes]:
        group_n, rest_n = counts.pair(district.key, group_id, code)
        hidden[(district.key, code)] = growth.is_breakdown_suppressed(
            group_n=group_n, rest_n=rest_n, minimum_n=minimum_n
        ) or (code is not None and hidden[(district.key, None)])
        _children_hidden(hidden, district, schools, counts, group_id, code, minimum_n)
        for school in schools:
            _children_hidden(
                hidden, school, classes[school.node_id], counts, group_id, code, minimum_n
            )
    return [
        Flag(
            node=node.key,
            student_group_id=group_id,
            is_hidden=hidden[(node.key, None)],
            hidden_codes=tuple(code for code in codes if hidden[(node.key, code)]),
        )
        for node in nodes
    ]


def _children_hidden(
    hidden: dict[tuple[NodeKey, str | None], bool],
    parent: Node,
    children: list[Node],
    counts: Counts,
    group_id: int,
    code: str | None,
    minimum_n: int,
) -> None:
    """Decide the children's pairs under their parent's (``growth.nested_breakdown_suppression``);
    a skill's pair is also hidden where the child's whole pair is."""
    flags = growth.nested_breakdown_suppression(
        is_parent_suppressed=hidden[(parent.key, code)],
        children=[counts.pair(child.key, group_id, code) for child in children],
        minimum_n=minimum_n,
        also_hidden=None if code is None else [hidden[(child.key, None)] for child in children],
    )
    for child, is_hidden in zip(children, flags, strict=True):
        hidden[(child.key, code)] = is_hidden
