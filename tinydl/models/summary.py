"""model.summary(): Keras' table of layers, output shapes and parameter counts, plus MACs per sample."""

from __future__ import annotations

# column widths: Layer (type), Output Shape, Param #, MACs/sample
_COLUMNS = (("Layer (type)", 42), ("Output Shape", 24), ("Param #", 12), ("MACs/sample", 15))


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
    """
    widths = [w for _, w in _COLUMNS]
    if line_length:
        scale = line_length / sum(widths)
        widths = [max(int(w * scale), 8) for w in widths]
    total_width = sum(widths)
    lines = [f'Model: "{model.name}"', "_" * total_width,
             " " + _row([c for c, _ in _COLUMNS], widths), "=" * total_width]
    total_macs = 0
    for i, layer in enumerate(model.layers):
        macs = int(layer.macs_per_sample(layer.input_shape)) if layer.input_shape is not None else 0
        total_macs += macs
        cells = [f"{layer.name} ({type(layer).__name__})", layer.output_shape,
                 f"{layer.count_params():,}", f"{macs:,}"]
        lines.append(" " + _row(cells, widths))
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
