"""plot_model: a picture of a model's layer graph, written without pydot or Graphviz.

The picture is drawn from a small graph interface, so any model can be plotted:

    GraphNode(key, name, class_name, input_shape, output_shape, inbound=[keys of its inputs])

layer_graph(model) returns the nodes: model.layer_graph() when the model defines it (a
functional Model lists each layer with the layers that feed it), else one chain through
model.layers (Sequential). Nodes are placed in ranks (a node one rank below its lowest
input), boxes are drawn with their text, and arrows join each input to its node; the file is
SVG written here, or PNG/PDF/JPEG through matplotlib.
"""

from __future__ import annotations

import dataclasses
import os
from xml.sax.saxutils import escape

_CHAR_WIDTH, _LINE_HEIGHT, _PAD, _GAP_X, _GAP_Y = 7.2, 16.0, 10.0, 30.0, 40.0
RASTER_FORMATS = (".png", ".jpg", ".jpeg", ".pdf")


@dataclasses.dataclass
class GraphNode:
    """One layer in the picture: key (unique), its name, class name, shapes and inputs.

    Attributes:
        key: a unique id of the layer in the graph.
        name: the layer's name.
        class_name: its class name, e.g. 'Dense'.
        input_shape: its input shape, or None when unknown.
        output_shape: its output shape, or None.
        inbound: the keys of the nodes it takes its inputs from.
        activation: the name of its activation function, or None.
        trainable: its trainable flag, or None.

    Example:
        >>> a = GraphNode("a", "in", "InputLayer", output_shape=(None, 3))
        >>> b = GraphNode("b", "dense", "Dense", (None, 3), (None, 2), inbound=["a"])
        >>> labels = {"a": ["in"], "b": ["dense"]}
        >>> "<svg" in to_svg([a, b], labels, layout([a, b], labels))
        True
    """

    key: str
    name: str
    class_name: str
    input_shape: object = None
    output_shape: object = None
    inbound: list = dataclasses.field(default_factory=list)
    activation: str | None = None
    trainable: bool | None = None


def _node_of(layer, inbound) -> GraphNode:
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None) if activation is not None else None
    return GraphNode(key=str(id(layer)), name=layer.name, class_name=type(layer).__name__,
                     input_shape=getattr(layer, "input_shape", None),
                     output_shape=getattr(layer, "output_shape", None), inbound=inbound,
                     activation=name, trainable=getattr(layer, "trainable", None))


def layer_graph(model) -> list:
    """The GraphNodes of model: model.layer_graph() if it has one, else a chain of its layers.

    Args:
        model: a model with layers, or with a layer_graph() method (a functional model).

    Returns:
        A list of GraphNodes, inputs before the layers that take them.

    Raises:
        TypeError: the model has neither.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, activation="relu",
        ...                            name="hidden"), tinydl.layers.Dense(1, name="out")])
        >>> nodes = layer_graph(model)
        >>> [(n.name, n.output_shape, n.activation) for n in nodes]
        [('hidden', (None, 2), 'relu'), ('out', (None, 1), 'linear')]
        >>> nodes[1].inbound == [nodes[0].key]
        True
    """
    if hasattr(model, "layer_graph"):
        return list(model.layer_graph())
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError("plot_model needs a model with layers (or a layer_graph() method). "
                        f"Received: model of type {type(model).__name__}")
    nodes, previous = [], []
    for layer in layers:
        nodes.append(_node_of(layer, previous))
        previous = [nodes[-1].key]
    return nodes


def _ranks(nodes) -> dict:
    """key -> rank: 0 for nodes without inputs, else one more than the deepest input."""
    by_key, rank = {n.key: n for n in nodes}, {}
    for node in nodes:
        missing = [k for k in node.inbound if k not in by_key]
        if missing:
            raise ValueError(f"plot_model: node {node.name!r} names inputs {missing} that are "
                             "not in the graph")
    def depth(key, trail=()):
        if key in trail:
            raise ValueError(f"plot_model: the layer graph has a cycle through {by_key[key].name!r}")
        if key not in rank:
            inbound = by_key[key].inbound
            rank[key] = 0 if not inbound else 1 + max(depth(k, trail + (key,)) for k in inbound)
        return rank[key]
    for node in nodes:
        depth(node.key)
    return rank


def _shape_text(shape) -> str:
    return "?" if shape is None else str(tuple(shape)) if not isinstance(shape, str) else shape


def _labels(node, show_shapes, show_layer_names, show_dtype, show_layer_activations,
            show_trainable) -> list:
    lines = [f"{node.name} ({node.class_name})" if show_layer_names else node.class_name]
    if show_layer_activations and node.activation:
        lines.append(f"Activation: {node.activation}")
    if show_shapes:
        lines += [f"Input shape: {_shape_text(node.input_shape)}",
                  f"Output shape: {_shape_text(node.output_shape)}"]
    if show_dtype:
        lines.append("Output dtype: float32")
    if show_trainable and node.trainable is not None:
        lines.append(f"Trainable: {node.trainable}")
    return lines


def layout(nodes, labels, rankdir="TB") -> dict:
    """key -> (x, y, width, height) of each box (top-left corner), ranks down (TB) or across (LR).

    A node's rank is 0 without inputs, else one more than its deepest input; the boxes of a
    rank sit side by side, centred.

    Args:
        nodes: the GraphNodes.
        labels: key -> the lines of text in its box (they set its size).
        rankdir: 'TB' (top to bottom) or 'LR' (left to right).

    Returns:
        key -> (x, y, width, height).

    Raises:
        ValueError: a node names an input not in nodes, or the graph has a cycle.

    Example:
        >>> a, b = GraphNode("a", "in", "InputLayer"), GraphNode("b", "dense", "Dense", inbound=["a"])
        >>> boxes = layout([a, b], {"a": ["in"], "b": ["dense"]})
        >>> boxes["a"][1] < boxes["b"][1], boxes["b"][0] == 0.0       # b below a; b is the widest
        (True, True)
        >>> wide = layout([a, b], {"a": ["in"], "b": ["dense"]}, rankdir="LR")
        >>> wide["a"][0] < wide["b"][0]                                 # b right of a
        True
    """
    ranks = _ranks(nodes)
    sizes = {n.key: (max(len(t) for t in labels[n.key]) * _CHAR_WIDTH + 2 * _PAD,
                     len(labels[n.key]) * _LINE_HEIGHT + 2 * _PAD) for n in nodes}
    rows: dict = {}
    for node in nodes:
        rows.setdefault(ranks[node.key], []).append(node.key)
    across = 0 if rankdir == "TB" else 1       # the axis along which one rank is spread
    spans = {r: sum(sizes[k][across] for k in keys) + _GAP_X * (len(keys) - 1)
             for r, keys in rows.items()}
    widest, boxes, offset = max(spans.values()), {}, 0.0
    for r in sorted(rows):
        depth = max(sizes[k][1 - across] for k in rows[r])
        position = (widest - spans[r]) / 2
        for key in rows[r]:
            w, h = sizes[key]
            boxes[key] = (position, offset, w, h) if rankdir == "TB" else (offset, position, w, h)
            position += sizes[key][across] + _GAP_X
        offset += depth + _GAP_Y
    return boxes


def _edges(nodes, boxes, rankdir):
    """(x1, y1, x2, y2) from the middle of each input box's far side to the node's near side."""
    for node in nodes:
        for key in node.inbound:
            x, y, w, h = boxes[key]
            tx, ty, tw, th = boxes[node.key]
            if rankdir == "TB":
                yield x + w / 2, y + h, tx + tw / 2, ty
            else:
                yield x + w, y + h / 2, tx, ty + th / 2


def to_svg(nodes, labels, boxes, rankdir="TB") -> str:
    """The picture as an SVG document.

    Args:
        nodes: the GraphNodes.
        labels: key -> the lines of text in its box.
        boxes: key -> (x, y, width, height), from layout.
        rankdir: 'TB' or 'LR' (where the arrows start and end).

    Returns:
        The SVG text: one <g class="layer"> per node and one arrow per input.

    Example:
        >>> a, b = GraphNode("a", "in", "InputLayer"), GraphNode("b", "dense", "Dense", inbound=["a"])
        >>> labels = {"a": ["in"], "b": ["dense <Dense>"]}
        >>> svg = to_svg([a, b], labels, layout([a, b], labels))
        >>> svg.count('class="layer"'), svg.count("<line"), "dense &lt;Dense&gt;" in svg
        (2, 1, True)
    """
    width = max(x + w for x, _, w, _ in boxes.values()) + 2 * _PAD
    height = max(y + h for _, y, _, h in boxes.values()) + 2 * _PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="{-_PAD:.0f} {-_PAD:.0f} {width:.0f} {height:.0f}" '
             'font-family="monospace" font-size="12">',
             '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" '
             'orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#444"/></marker></defs>']
    for x1, y1, x2, y2 in _edges(nodes, boxes, rankdir):
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     'stroke="#444" stroke-width="1.2" marker-end="url(#arrow)"/>')
    for node in nodes:
        x, y, w, h = boxes[node.key]
        parts.append(f'<g class="layer" id="{escape(node.name)}"><rect x="{x:.1f}" y="{y:.1f}" '
                     f'width="{w:.1f}" height="{h:.1f}" rx="4" fill="#eef3fb" stroke="#345"/>')
        for i, line in enumerate(labels[node.key]):
            parts.append(f'<text x="{x + w / 2:.1f}" y="{y + _PAD + (i + 0.75) * _LINE_HEIGHT:.1f}" '
                         f'text-anchor="middle">{escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _draw_with_matplotlib(nodes, labels, boxes, rankdir, path, dpi) -> None:
    try:  # a bare Figure (no pyplot): the user's plotting backend and windows are untouched
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch
    except ImportError:
        raise ImportError(f"plot_model writes {os.path.splitext(path)[1]} files with matplotlib, "
                          "which is not installed: pip install 'tinydl[plot]', or use a file "
                          "name ending in .svg (written without it)") from None
    width = max(x + w for x, _, w, _ in boxes.values()) + 2 * _PAD
    height = max(y + h for _, y, _, h in boxes.values()) + 2 * _PAD
    figure = Figure(figsize=(width / 72, height / 72))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-_PAD, width - _PAD)
    axes.set_ylim(height - _PAD, -_PAD)   # y grows downwards, as in the SVG
    axes.axis("off")
    for x1, y1, x2, y2 in _edges(nodes, boxes, rankdir):
        axes.annotate("", xy=(x2, y2), xytext=(x1, y1),
                      arrowprops={"arrowstyle": "-|>", "color": "#444", "lw": 1.2})
    for node in nodes:
        x, y, w, h = boxes[node.key]
        axes.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=4",
                                      facecolor="#eef3fb", edgecolor="#345"))
        for i, line in enumerate(labels[node.key]):
            axes.text(x + w / 2, y + _PAD + (i + 0.5) * _LINE_HEIGHT, line, ha="center",
                      va="center", family="monospace", fontsize=9)
    figure.savefig(path, dpi=dpi)


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, **kwargs) -> str:
    """Draw model's layer graph into to_file, as keras.utils.plot_model (Keras 3's defaults).

    Args:
        model: a built model (Sequential, or any model with layers or layer_graph()).
        to_file: where to write: '.svg' is written by tinydl itself; '.png', '.jpg', '.pdf'
            through matplotlib (pip install 'tinydl[plot]').
        show_shapes: add each layer's input and output shapes.
        show_dtype: add each layer's output dtype.
        show_layer_names: "name (Class)" instead of the class alone.
        rankdir: 'TB' (top to bottom) or 'LR' (left to right).
        expand_nested: accepted (nothing is nested).
        dpi: the resolution of raster files.
        show_layer_activations: add each layer's activation.
        show_trainable: add each layer's trainable flag.
        **kwargs: Keras' other arguments, accepted and ignored.

    Returns:
        to_file.

    Raises:
        ValueError: an unbuilt model, or an unknown file type or rankdir.
        ImportError: a raster file without matplotlib.

    Example:
        >>> import os, tempfile
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="hidden")])
        >>> path = plot_model(model, os.path.join(tempfile.mkdtemp(), "m.svg"), show_shapes=True,
        ...                   show_layer_names=True)
        >>> svg = open(path).read()
        >>> "hidden (Dense)" in svg, "Output shape: (None, 2)" in svg
        (True, True)
        >>> plot_model(model, "m.gif")
        Traceback (most recent call last):
        ...
        ValueError: plot_model writes .svg, .png, .jpg or .pdf files. Received: to_file='m.gif'
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    extension = os.path.splitext(str(to_file))[1].lower()
    if extension not in (".svg",) + RASTER_FORMATS:
        raise ValueError(f"plot_model writes .svg, .png, .jpg or .pdf files. "
                         f"Received: to_file={to_file!r}")
    if not getattr(model, "built", True):
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    nodes = layer_graph(model)
    if not nodes:
        raise ValueError("plot_model: the model has no layers to draw")
    labels = {n.key: _labels(n, show_shapes, show_layer_names, show_dtype,
                             show_layer_activations, show_trainable) for n in nodes}
    boxes = layout(nodes, labels, rankdir)
    if extension == ".svg":
        with open(to_file, "w", encoding="utf-8") as file:
            file.write(to_svg(nodes, labels, boxes, rankdir))
    else:
        _draw_with_matplotlib(nodes, labels, boxes, rankdir, str(to_file), dpi)
    return str(to_file)
