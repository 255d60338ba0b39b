"""model.summary(): Keras' table of layers, output shapes and parameter counts, plus MACs per sample."""

from __future__ import annotations

# column widths: Layer (type), Output Shape, Param #, MACs/sample (Connected to: functional)
_COLUMNS = (("Layer (type)", 42), ("Output Shape", 24), ("Param #", 12), ("MACs/sample", 15))
_GRAPH_COLUMNS = (("Layer (type)", 32), ("Output Shape", 22), ("Param #", 10),
                  ("Connected to", 30))
_TIME_COLUMNS = (("Forward ms", 12), ("Backward ms", 13), ("Share", 7))  # with a profile


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


def summary_lines(model, line_length: int | None = None, profile=None) -> list:
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

    With a profile (a tinydl.profiler.Profile), three columns more give each layer's measured
    forward and backward time and its share of the profile's time in ops and kernels, and
    lines under the table give the rest (see _time_cells).

    Args:
        model: a built model.
        line_length: the table's width; Keras' default when None.
        profile: a tinydl.profiler.Profile of a run, for the time columns; None for none.

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
    columns = (_GRAPH_COLUMNS if graph is not None else _COLUMNS)
    times = None
    if profile is not None:
        times = _LayerTimes(model, profile)
        columns += _TIME_COLUMNS
    widths = [w for _, w in columns]
    if line_length:
        scale = line_length / sum(widths)
        widths = [max(int(w * scale), 8) for w in widths]
    total_width = sum(widths)
    lines = [f'Model: "{model.name}"', "_" * total_width,
             " " + _row([c for c, _ in columns], widths), "=" * total_width]
    total_macs = 0
    rows = graph.layers if graph is not None else model.layers  # a graph's keras.ops too
    for i, layer in enumerate(rows):
        macs = _macs(layer)
        total_macs += macs
        if graph is None and not layer.built:  # as Keras: an unbuilt model lists its layers
            cells = [f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)", "0"]
            lines.append(" " + _row(cells, widths))
        elif graph is None:
            cells = [f"{layer.name} ({type(layer).__name__})", _shape(layer.output_shape),
                     f"{layer.count_params():,}", f"{macs:,}"]
            lines.append(" " + _row(cells + (times.cells(layer) if times else []), widths))
        else:
            lines += _graph_rows(graph, layer, widths, times.cells(layer) if times else [])
        if i < len(rows) - 1:
            lines.append("")
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    lines += ["=" * total_width,
              f"Total params: {trainable + non_trainable:,} ({_bytes(trainable + non_trainable)})",
              f"Trainable params: {trainable:,} ({_bytes(trainable)})",
              f"Non-trainable params: {non_trainable:,} ({_bytes(non_trainable)})",
              f"Total MACs per sample: {total_macs:,}"]
    if times is not None:
        lines += times.footer()
    return lines + ["_" * total_width]


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


def _graph_rows(graph, layer, widths, time_cells) -> list:
    """One layer of a functional model: its output shape in this graph, and the tensors it
    was called on, as Keras writes them: layer_name[node_index][tensor_index]."""
    nodes = [node for node in graph.nodes if node.layer is layer]
    shape = (nodes[0].outputs if nodes else layer.output).shape if not nodes or not isinstance(
        nodes[0].outputs, (list, tuple, dict)) else [t.shape for t in nodes[0].flat_outputs]
    sources = [f"{t.node.layer.name}[{t.node.layer._inbound_nodes.index(t.node)}][{t.index}]"
               for node in nodes for t in node.parents]
    kind = layer.operation_name if layer._is_operation else type(layer).__name__
    cells = [f"{layer.name} ({kind})", _shape(shape), f"{layer.count_params():,}",
             sources[0] + ("," if len(sources) > 1 else "") if sources else "-"] + time_cells
    rows = [" " + _row(cells, widths)]
    for k, source in enumerate(sources[1:], start=1):
        rows.append(" " + _row(["", "", "", source + ("," if k < len(sources) - 1 else "")],
                               widths))
    return rows


class _LayerTimes:
    """The measured time of each of a model's layers in a profile, for the summary's rows.

    A layer's time is the self time of the ops and kernels that ran in it (Profile.layer_times),
    summed over the whole profile, and a nested model's that of its own layers. A fused
    Conv2D+MaxPooling2D pair ran as one op: its time is on the Conv2D row and the pooling
    row says 'fused'.
    """

    def __init__(self, model, profile):
        from tinydl.profiler import Profile
        if not isinstance(profile, Profile):
            raise TypeError("summary(profile=...) expects the tinydl.profiler.Profile of a "
                            "`with tinydl.profile() as prof:` block (or a callbacks.Profiler's "
                            f".profile). Received: {type(profile).__name__}")
        self.measured = profile.layer_times()
        self.total = sum(t["forward"] + t["backward"] for t in self.measured.values())
        self.fused_into: dict = {}  # pooling layer name -> the conv layer name its time is on
        for key in self.measured:
            if key and "+" in key:
                first, *rest = key.split("+")
                self.fused_into.update({name: first for name in rest})
        self.shown: set = set()
        self.wall = profile.wall_seconds
        names = {name for layer in model.layers for name in _names(layer)}
        if not any(key and key.split("+")[0] in names for key in self.measured):
            raise ValueError(f"the profile recorded no op of model '{model.name}'s layers: "
                             "profile a training step or a call of this model. Received a "
                             f"profile of the layers {sorted(k for k in self.measured if k)}")

    def cells(self, layer) -> list:
        """[forward ms, backward ms, share] of one row."""
        if layer.name in self.fused_into and layer.name not in self.measured:
            return ["fused", "", ""]
        forward = backward = 0.0
        for key, t in self.measured.items():
            if key is not None and key.split("+")[0] in _names(layer):
                forward, backward = forward + t["forward"], backward + t["backward"]
                self.shown.add(key)
        share = (forward + backward) / self.total if self.total else 0.0
        return [f"{forward * 1e3:,.2f}", f"{backward * 1e3:,.2f}", f"{100 * share:.1f}%"]

    def footer(self) -> list:
        """The lines under the table: the time outside the rows, and the totals."""
        lines = []
        rest = {k: t for k, t in self.measured.items() if k not in self.shown}
        outside = rest.pop(None, None)
        if outside is not None:
            lines.append(self._line("Outside layers (loss, metrics, optimizer)", outside))
        if self.fused_into:
            pairs = ", ".join(f"{conv}+{pool}" for pool, conv in self.fused_into.items())
            lines.append(f"Fused (one op, its time on the first layer's row): {pairs}")
        if rest:
            lines.append(self._line(f"Other layers ({', '.join(sorted(rest))})",
                                    {"forward": sum(t["forward"] for t in rest.values()),
                                     "backward": sum(t["backward"] for t in rest.values())}))
        share = self.total / self.wall if self.wall else 0.0
        lines.append(f"Measured time in ops and kernels: {self.total * 1e3:,.2f} ms = 100% "
                     f"({100 * share:.0f}% of the profile's {self.wall * 1e3:,.2f} ms of wall "
                     "time; the rest is Python between ops)")
        return lines

    def _line(self, what: str, t: dict) -> str:
        seconds = t["forward"] + t["backward"]
        share = seconds / self.total if self.total else 0.0
        return (f"{what}: {seconds * 1e3:,.2f} ms ({t['forward'] * 1e3:,.2f} forward, "
                f"{t['backward'] * 1e3:,.2f} backward), {100 * share:.1f}%")


def _reports_itself(layer) -> bool:
    return getattr(layer, "_reports_as_layer", True)


def _names(layer) -> set:
    """The names a layer's events carry: its own, or a nested model's layers' names."""
    if _reports_itself(layer):
        return {layer.name}
    return {name for sub in getattr(layer, "layers", []) for name in _names(sub)}
