"""The lifecycle as a picture: an inline SVG drawn here, in Python, from states/.

The states stand in one column in the order of states/ (the order a case usually goes), each
a box. A step to the next state below is a short arrow between the boxes; a longer step
forward runs in a lane on the right, a step back (återremiss, komplettering, an ändring that
goes to beredning again) in a lane on the left, so the two directions never share a side.
A step taken from several states (ta tillbaka, arkivera) is drawn as one lane that every
source joins. The current state has a thicker border and the word "Nu", passed states a tick
and a grey fill, final states a double border: none of it by colour alone.

No script, no inline style (the Content-Security-Policy allows neither): every colour and
line comes from classes in static/finsam.css; geometry is attributes. The picture is a
`role="img"` with a title; the HTML list of lifecycle_picture.py is its text alternative,
named by `aria-describedby`.

Layout, in steps:
1. Every (step, source state) pair becomes one edge: straight (to the next state below),
   right (forward, further), or left (back, or to itself).
2. Edges of one step to one destination on one side form a group that shares a lane;
   groups are given lanes shortest first, a lane holding groups whose rows do not meet.
3. Each box side gets one port per edge end; ports are ordered so that a line leaving for an
   outer lane does not cross the lanes inside it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup

from workflow.lifecycle.definition import Lifecycle

BOX_W = 250
BOX_H = 32
GAP = 22  # between two boxes: room for a straight arrow
LANE = 12  # between two lanes
LANE_PAD = 14  # from a box to its first lane
MARGIN = 8
TOP = 30  # room for the start mark above the first box
CORNER = 4
STRAIGHT_SPREAD = 16  # between two straight arrows in the same gap

RIGHT, LEFT, STRAIGHT = "right", "left", "straight"


@dataclass
class _Edge:
    trigger: str
    label: str
    source: int
    dest: int
    side: str
    group: _Group | None = None


@dataclass
class _Group:
    trigger: str
    dest: int
    side: str
    edges: list[_Edge] = field(default_factory=list)
    lane: int = 0

    @property
    def span(self) -> tuple[int, int]:
        rows = [self.dest, *(e.source for e in self.edges)]
        return min(rows), max(rows)


def _edges(lifecycle: Lifecycle, order: dict[str, int]) -> list[_Edge]:
    edges = []
    for t in lifecycle.transitions:
        for source in t.sources:
            s, d = order[source], order[t.dest]
            side = STRAIGHT if d == s + 1 else RIGHT if d > s else LEFT
            edges.append(_Edge(t.trigger, t.label, s, d, side))
    return edges


def _groups(edges: Iterable[_Edge]) -> dict[str, list[_Group]]:
    by_key: dict[tuple[str, int, str], _Group] = {}
    for edge in edges:
        if edge.side == STRAIGHT:
            continue
        key = (edge.trigger, edge.dest, edge.side)
        group = by_key.setdefault(key, _Group(edge.trigger, edge.dest, edge.side))
        group.edges.append(edge)
        edge.group = group
    sides: dict[str, list[_Group]] = {RIGHT: [], LEFT: []}
    for group in by_key.values():
        sides[group.side].append(group)
    for groups in sides.values():
        _assign_lanes(groups)
    return sides


def _assign_lanes(groups: list[_Group]) -> None:
    """Shortest first, each in the innermost lane where it meets no other group's rows."""
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for group in sorted(groups, key=lambda g: (g.span[1] - g.span[0], g.span)):
        low, high = group.span
        lane = 0
        while any(not (high < a or low > b) for a, b in taken[lane]):
            lane += 1
        group.lane = lane
        taken[lane].append((low, high))


def _lanes(groups: list[_Group]) -> int:
    return max((g.lane for g in groups), default=-1) + 1


@dataclass(frozen=True)
class _Port:
    """One end of an edge (or a group's shared arrival) on one side of one box."""

    key: tuple[object, ...]
    lane: int
    # Whether the line goes up from here (its other end is above): such ports sit above
    # those that go down; among them inner lanes higher, among those going down lower.
    up: bool


def _ports(sides: dict[str, list[_Group]]) -> dict[tuple[object, ...], float]:
    """The y of every port, keyed (side, row, group id, 'in'|edge source)."""
    on_box: dict[tuple[str, int], list[_Port]] = defaultdict(list)
    for side, groups in sides.items():
        for group in groups:
            forward = side == RIGHT
            on_box[(side, group.dest)].append(
                _Port((side, group.dest, id(group), "in"), group.lane, up=forward)
            )
            for edge in group.edges:
                on_box[(side, edge.source)].append(
                    _Port((side, edge.source, id(group), edge.source), group.lane, up=not forward)
                )
    where: dict[tuple[object, ...], float] = {}
    for (_side, row), ports in on_box.items():
        ports.sort(key=lambda p: (not p.up, p.lane if p.up else -p.lane))
        top = _row_top(row)
        for n, port in enumerate(ports, start=1):
            where[port.key] = top + BOX_H * n / (len(ports) + 1)
    return where


def _row_top(row: int) -> float:
    return TOP + row * (BOX_H + GAP)


def _path(points: list[tuple[float, float]]) -> str:
    """A polyline with its corners rounded."""
    d = [f"M{points[0][0]:g},{points[0][1]:g}"]
    for i in range(1, len(points) - 1):
        (x0, y0), (x1, y1), (x2, y2) = points[i - 1], points[i], points[i + 1]
        r = min(CORNER, abs(x1 - x0 + y1 - y0) / 2, abs(x2 - x1 + y2 - y1) / 2)
        ax = x1 - r * _sign(x1 - x0)
        ay = y1 - r * _sign(y1 - y0)
        bx = x1 + r * _sign(x2 - x1)
        by = y1 + r * _sign(y2 - y1)
        d.append(f"L{ax:g},{ay:g} Q{x1:g},{y1:g} {bx:g},{by:g}")
    d.append(f"L{points[-1][0]:g},{points[-1][1]:g}")
    return " ".join(d)


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def svg(lifecycle: Lifecycle, current: str, passed: Iterable[str], *, describedby: str) -> Markup:
    """The picture of `lifecycle` with `current` marked and `passed` shown as passed."""
    names = list(lifecycle.states)
    order = {name: i for i, name in enumerate(names)}
    been = set(passed) - {current}
    edges = _edges(lifecycle, order)
    sides = _groups(edges)
    ports = _ports(sides)
    left_lanes, right_lanes = _lanes(sides[LEFT]), _lanes(sides[RIGHT])
    box_x = MARGIN + left_lanes * LANE + LANE_PAD
    box_right = box_x + BOX_W
    width = box_right + LANE_PAD + right_lanes * LANE + MARGIN
    height = _row_top(len(names)) - GAP + MARGIN

    def lane_x(side: str, lane: int) -> float:
        if side == RIGHT:
            return box_right + LANE_PAD + lane * LANE
        return box_x - LANE_PAD - lane * LANE

    current_label = lifecycle.label_of(current)
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "lifecycle-svg",
            "viewBox": f"0 0 {width:g} {height:g}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": "livscykel-bild-titel",
            "aria-describedby": describedby,
        },
    )
    ET.SubElement(root, "title", {"id": "livscykel-bild-titel"}).text = (
        f"Livscykeln som bild: ärendet är nu i tillståndet {current_label}. "
        "Samma sak som text i listan nedan."
    )
    defs = ET.SubElement(root, "defs")
    marker = ET.SubElement(
        defs,
        "marker",
        {
            "id": "livscykel-pil",
            "viewBox": "0 0 10 10",
            "refX": "10",
            "refY": "5",
            "markerWidth": "7",
            "markerHeight": "7",
            "orient": "auto-start-reverse",
            "markerUnits": "userSpaceOnUse",
        },
    )
    ET.SubElement(marker, "path", {"d": "M0,0 L10,5 L0,10 z", "class": "lc-arrowhead"})

    edges_g = ET.SubElement(root, "g", {"class": "lc-edges"})
    straight: dict[int, list[_Edge]] = defaultdict(list)
    for edge in edges:
        if edge.side == STRAIGHT:
            straight[edge.source].append(edge)
    for row, in_gap in straight.items():
        centre = box_x + BOX_W / 2
        for n, edge in enumerate(in_gap):
            x = centre + (n - (len(in_gap) - 1) / 2) * STRAIGHT_SPREAD
            y0 = _row_top(row) + BOX_H
            _edge_path(edges_g, lifecycle, names, edge, [(x, y0), (x, y0 + GAP)])
    for side, groups in sides.items():
        edge_x = box_right if side == RIGHT else box_x
        for group in groups:
            x = lane_x(side, group.lane)
            y_in = ports[(side, group.dest, id(group), "in")]
            for edge in group.edges:
                y_out = ports[(side, edge.source, id(group), edge.source)]
                points = [(edge_x, y_out), (x, y_out), (x, y_in), (edge_x, y_in)]
                _edge_path(edges_g, lifecycle, names, edge, points)

    states_g = ET.SubElement(root, "g", {"class": "lc-states"})
    for row, name in enumerate(names):
        state = lifecycle.states[name]
        classes = ["lc-state"]
        if name == current:
            classes.append("lc-state--current")
        elif name in been:
            classes.append("lc-state--passed")
        if state.final:
            classes.append("lc-state--final")
        top = _row_top(row)
        g = ET.SubElement(states_g, "g", {"class": " ".join(classes), "data-state": name})
        _rect(g, box_x, top, BOX_W, BOX_H, "lc-box")
        if state.final:
            _rect(g, box_x + 3, top + 3, BOX_W - 6, BOX_H - 6, "lc-box-inner")
        mark = "✓ " if name in been else ""
        text = ET.SubElement(
            g,
            "text",
            {"x": f"{box_x + 10:g}", "y": f"{top + BOX_H / 2:g}", "class": "lc-label"},
        )
        text.text = f"{mark}{state.label}"
        if name == current:
            _rect(g, box_right - 42, top + 7, 34, BOX_H - 14, "lc-now-badge")
            badge = ET.SubElement(
                g,
                "text",
                {"x": f"{box_right - 25:g}", "y": f"{top + BOX_H / 2:g}", "class": "lc-now"},
            )
            badge.text = "Nu"
        if name == lifecycle.initial:
            cx = box_x + BOX_W / 2
            ET.SubElement(
                g, "circle", {"cx": f"{cx:g}", "cy": f"{top - 22:g}", "r": "5", "class": "lc-start"}
            )
            ET.SubElement(
                g,
                "path",
                {
                    "d": f"M{cx:g},{top - 17:g} L{cx:g},{top:g}",
                    "class": "lc-edge",
                    "marker-end": "url(#livscykel-pil)",
                },
            )
    return Markup(ET.tostring(root, encoding="unicode"))


def _rect(parent: ET.Element, x: float, y: float, w: float, h: float, css: str) -> None:
    ET.SubElement(
        parent,
        "rect",
        {"x": f"{x:g}", "y": f"{y:g}", "width": f"{w:g}", "height": f"{h:g}", "class": css},
    )


def _edge_path(
    parent: ET.Element,
    lifecycle: Lifecycle,
    names: list[str],
    edge: _Edge,
    points: list[tuple[float, float]],
) -> None:
    kind = {STRAIGHT: "lc-edge", RIGHT: "lc-edge", LEFT: "lc-edge lc-edge--back"}[edge.side]
    path = ET.SubElement(
        parent,
        "path",
        {
            "d": _path(points),
            "class": kind,
            "marker-end": "url(#livscykel-pil)",
            "data-trigger": edge.trigger,
            "data-from": names[edge.source],
            "data-to": names[edge.dest],
        },
    )
    source, dest = lifecycle.label_of(names[edge.source]), lifecycle.label_of(names[edge.dest])
    ET.SubElement(path, "title").text = f"{edge.label} ({source} → {dest})"
