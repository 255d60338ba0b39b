"""plot_model: SVG written by tinydl, PNG through matplotlib, from the layer-graph interface."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from tinydl.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tinydl.model_visualization import GraphNode, layer_graph
from tinydl.models import Sequential
from tinydl.utils import plot_model

SVG = "{http://www.w3.org/2000/svg}"


def _model():
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1), name="conv"),
                        MaxPooling2D(name="pool"), Flatten(name="flat"), Dense(3, name="head")])
    model.build()
    return model


def _svg(path):
    root = ElementTree.parse(path).getroot()
    texts = [t.text for t in root.iter(f"{SVG}text")]
    return root, texts


def test_sequential_svg_has_a_box_per_layer_and_a_chain_of_arrows(tmp_path):
    path = plot_model(_model(), to_file=str(tmp_path / "model.svg"), show_shapes=True,
                      show_layer_names=True)
    root, texts = _svg(path)
    assert len(list(root.iter(f"{SVG}rect"))) == 4
    assert len(list(root.iter(f"{SVG}line"))) == 3
    assert texts[:3] == ["conv (Conv2D)", "Input shape: (None, 8, 8, 1)",
                         "Output shape: (None, 6, 6, 4)"]
    assert "head (Dense)" in texts and "Output shape: (None, 3)" in texts
    y = [float(r.get("y")) for r in root.iter(f"{SVG}rect")]
    assert y == sorted(y) and len(set(y)) == 4          # top to bottom, in order


def test_defaults_show_classes_only_as_keras_3(tmp_path):
    _, texts = _svg(plot_model(_model(), to_file=str(tmp_path / "m.svg")))
    assert texts == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    _, texts = _svg(plot_model(_model(), to_file=str(tmp_path / "a.svg"),
                               show_layer_activations=True, show_trainable=True))
    assert "Activation: relu" in texts and "Trainable: True" in texts


def test_png_through_matplotlib(tmp_path):
    pytest.importorskip("matplotlib", reason="could not import matplotlib")
    path = plot_model(_model(), to_file=str(tmp_path / "model.png"), show_shapes=True, dpi=50)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


class _TwoBranchModel:
    """A stand-in for a functional model: it describes its graph through layer_graph()."""

    built = True

    def layer_graph(self):
        return [GraphNode("in", "input", "InputLayer", None, (None, 4)),
                GraphNode("a", "left", "Dense", (None, 4), (None, 2), ["in"]),
                GraphNode("b", "right", "Dense", (None, 4), (None, 2), ["in"]),
                GraphNode("c", "join", "Concatenate", None, (None, 4), ["a", "b"])]


def test_a_graph_with_branches_is_laid_out_by_rank(tmp_path):
    root, texts = _svg(plot_model(_TwoBranchModel(), to_file=str(tmp_path / "g.svg"),
                                  show_layer_names=True, rankdir="LR"))
    boxes = {g.get("id"): g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g")}
    x = {name: float(rect.get("x")) for name, rect in boxes.items()}
    y = {name: float(rect.get("y")) for name, rect in boxes.items()}
    assert x["input"] < x["left"] == x["right"] < x["join"] and y["left"] != y["right"]
    assert len(list(root.iter(f"{SVG}line"))) == 4


def test_bad_arguments_and_unbuilt_models(tmp_path):
    with pytest.raises(ValueError, match="Received: to_file='m.gif'"):
        plot_model(_model(), to_file="m.gif")
    with pytest.raises(ValueError, match="Received: rankdir='BT'"):
        plot_model(_model(), to_file=str(tmp_path / "m.svg"), rankdir="BT")
    with pytest.raises(ValueError, match="not yet been built"):
        plot_model(Sequential([Dense(2)]), to_file=str(tmp_path / "m.svg"))
    cyclic = _TwoBranchModel()
    cyclic.layer_graph = lambda: [GraphNode("a", "a", "Dense", inbound=["b"]),
                                  GraphNode("b", "b", "Dense", inbound=["a"])]
    with pytest.raises(ValueError, match="cycle"):
        plot_model(cyclic, to_file=str(tmp_path / "c.svg"))
    assert [n.name for n in layer_graph(_model())] == ["conv", "pool", "flat", "head"]
    np.testing.assert_array_equal([len(n.inbound) for n in layer_graph(_model())], [0, 1, 1, 1])
