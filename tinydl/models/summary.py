"""model.summary(): Keras' table of layers, output shapes and parameter counts, plus MACs per sample."""

from __future__ import annotations

# column widths: Layer (type), Output Shape, Param #, MACs/sample (Connected to: functional)
_COLUMNS = (("Layer (type)", 42), ("Output Shape", 24), ("Param #", 12), ("MACs/sample", 15))
_GRAPH_COLUMNS = (("Layer (type)", 32), ("Output Shape", 22), ("Param #", 10),
                  ("Connected to", 30))


def _row(cells, widths) -> str:
    text = ""
    for cell, width in zip(cells, widths):
        cell = str(cell)
        text += (cell if len(cell) < width else cell[:width - 2] + "…") .ljust(width)
    return text.rstrip()


def _bytes(count: int) -> str:
    size = count * 4.0  # float32
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def summary_lines(model, line_length: int | None = None) -> list:
    """The lines of the summary table of a built model.

    Layout (Keras', one column added):

        Model: "sequential"
        ______________________________________________________________________________________
         Layer (type)                Output Shape              Param #     MACs/sample
        ======================================================================================
         dense (Dense)               (None, 64)                4,160       4,096
         ...
        ======================================================================================
        Total params: 4,810 (18.79 KB)
        Trainable params: 4,810 (18.79 KB)
        Non-trainable params: 0 (0.00 B)
        Total MACs per sample: 4,736
        ______________________________________________________________________________________

    MACs (multiply-accumulates) per sample are layer.macs_per_sample(input_shape): the work of
    one forward pass on one sample, e.g. in * units for a Dense layer.

    Args:
        model: a built model.
        line_length: the table's width; Keras' default when None.

    Returns:
        The lines, without line ends.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="hidden"),
        ...                            tinydl.layers.Dense(1, name="out")], name="mlp")
        >>> lines = summary_lines(model)
        >>> lines[0]
        'Model: "mlp"'
        >>> [line.split()[:4] for line in lines if line.startswith((" hidden", " out"))]
        [['hidden', '(Dense)', '(None,', '2)'], ['out', '(Dense)', '(None,', '1)']]
        >>> [line for line in lines if line.startswith(("Total", "Non"))]      # 3*2+2 + 2*1+1
        ['Total params: 11 (44.00 B)', 'Non-trainable params: 0 (0.00 B)', 'Total MACs per sample: 8']
    """
    graph = getattr(model, "_graph", None)
    columns = _GRAPH_COLUMNS if graph is not None else _COLUMNS
    widths = [w for _, w in columns]
    if line_length:
        scale = line_length / sum(widths)
        widths = [max(int(w * scale), 8) for w in widths]
    total_width = sum(widths)
    lines = [f'Model: "{model.name}"', "_" * total_width,
             " " + _row([c for c, _ in columns], widths), "=" * total_width]
    total_macs = 0
    for i, layer in enumerate(model.layers):
        macs = _macs(layer)
        total_macs += macs
        if graph is None:
            cells = [f"{layer.name} ({type(layer).__name__})", _shape(layer.output_shape),
                     f"{layer.count_params():,}", f"{macs:,}"]
            lines.append(" " + _row(cells, widths))
        else:
            lines += _graph_rows(graph, layer, widths)
        if i < len(model.layers) - 1:
            lines.append("")
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    lines += ["=" * total_width,
              f"Total params: {trainable + non_trainable:,} ({_bytes(trainable + non_trainable)})",
              f"Trainable params: {trainable:,} ({_bytes(trainable)})",
              f"Non-trainable params: {non_trainable:,} ({_bytes(non_trainable)})",
              f"Total MACs per sample: {total_macs:,}", "_" * total_width]
    return lines


def _macs(layer) -> int:
    if layer.input_shape is None:
        return 0
    try:
        return int(layer.macs_per_sample(layer.input_shape))
    except (TypeError, ValueError, IndexError):  # a layer with several inputs
        return 0


def _shape(shape) -> str:
    if isinstance(shape, list) and len(shape) == 1:
        shape = shape[0]
    return str(shape)


def _graph_rows(graph, layer, widths) -> list:
    """One layer of a functional model: its output shape in this graph, and the tensors it
    was called on, as Keras writes them: layer_name[node_index][tensor_index]."""
    nodes = [node for node in graph.nodes if node.layer is layer]
    shape = (nodes[0].outputs if nodes else layer.output).shape if not nodes or not isinstance(
        nodes[0].outputs, (list, tuple, dict)) else [t.shape for t in nodes[0].flat_outputs]
    sources = [f"{t.node.layer.name}[{t.node.layer._inbound_nodes.index(t.node)}][{t.index}]"
               for node in nodes for t in node.parents]
    cells = [f"{layer.name} ({type(layer).__name__})", _shape(shape), f"{layer.count_params():,}",
             sources[0] + ("," if len(sources) > 1 else "") if sources else "-"]
    rows = [" " + _row(cells, widths)]
    for k, source in enumerate(sources[1:], start=1):
        rows.append(" " + _row(["", "", "", source + ("," if k < len(sources) - 1 else "")],
                               widths))
    return rows
