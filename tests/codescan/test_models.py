"""Model files: ONNX structure of re-exported swappers, fingerprints, pickles by opcode."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from shieldwall.codescan import Scanner
from shieldwall.codescan.rules import load_rules

from .conftest import rule_ids


def swapper_like(path: Path, emap_name: str = "emap", side: int = 128) -> Path:
    """A tiny graph with inswapper's structure: a 1x3xSxS target image, a 1x512 source
    identity, and a 512x512 initializer applied to the identity. It computes nothing useful."""
    target = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, side, side])
    source = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, side, side])
    emap = numpy_helper.from_array(np.eye(512, dtype=np.float32), emap_name)
    nodes = [
        helper.make_node("MatMul", ["source", emap_name], ["latent"]),
        helper.make_node("Identity", ["target"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "g", [target, source], [out], [emap])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def recogniser_like(path: Path) -> Path:
    """An ArcFace-style recogniser: one 1x3x112x112 input, a 512-d output."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 112, 112])
    out = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 512])
    w = numpy_helper.from_array(np.zeros((3 * 112 * 112, 512), dtype=np.float32)[:8], "w")
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["embedding"]),
    ]
    graph = helper.make_graph(nodes, "r", [image], [out], [w])
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_reexported_swapper_is_found_by_structure(scanner: Scanner, tmp_path: Path) -> None:
    path = swapper_like(tmp_path / "generic_name.onnx", emap_name="tensor_417")
    report = scanner.scan(paths=[path])
    finding = next(f for f in report.findings if f.rule_id == "SW-INSWAPPER-ONNX")
    assert "1x3x128x128" in finding.evidence
    assert "512x512" in finding.evidence


def test_other_onnx_graphs_do_not_match(scanner: Scanner, tmp_path: Path) -> None:
    assert "SW-INSWAPPER-ONNX" not in rule_ids(
        scanner.scan(paths=[recogniser_like(tmp_path / "r.onnx")])
    )
    assert "SW-INSWAPPER-ONNX" not in rule_ids(
        scanner.scan(paths=[swapper_like(tmp_path / "s256.onnx", side=256)])
    )


def test_corrupt_onnx_is_a_clear_error(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07\x12\x04junk" + bytes(range(200)))
    report = scanner.scan(paths=[path])
    assert [e.code for e in report.errors] == ["corrupt_input"]


def test_fingerprints_from_a_provider_rule_file(tmp_path: Path) -> None:
    model = swapper_like(tmp_path / "m.onnx")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    rules = tmp_path / "provider.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: ACME-KNOWN-SWAPPER\n    family: inswapper\n"
        "    title: a swapper mirrored on our storage\n    weight: strong\n    signal: swap-model\n"
        f"    match:\n      hash:\n        files: [{{sha256: {digest}, "
        f"size: {model.stat().st_size}}}]\n"
    )
    scanner = Scanner(load_rules([rules]))
    finding = next(
        f for f in scanner.scan(paths=[model]).findings if f.rule_id == "ACME-KNOWN-SWAPPER"
    )
    assert digest in finding.evidence


def test_dfl_model_pickle_is_read_by_opcode(scanner: Scanner, tmp_path: Path) -> None:
    options = {
        "resolution": 224,
        "face_type": "wf",
        "archi": "liae-ud",
        "ae_dims": 256,
        "e_dims": 64,
        "d_dims": 64,
        "d_mask_dims": 22,
        "masked_training": True,
        "eyes_mouth_prio": True,
        "uniform_yaw": False,
        "true_face_power": 0.0,
        "gan_power": 0.1,
    }
    data = {"iter": 120000, "options": options, "loss_history": [[0.5, 0.4]] * 3}
    path = tmp_path / "new_SAEHD_data.dat"
    path.write_bytes(pickle.dumps(data, protocol=4))
    ids = rule_ids(scanner.scan(paths=[path]))
    assert {"SW-DFL-PICKLE", "SW-DFL-MODEL-FILES"} <= ids


def test_pickles_are_never_loaded(scanner: Scanner, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    # GLOBAL os.system + REDUCE: loading this would run a command. Scanning must not.
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    path = tmp_path / "evil.pkl"
    path.write_bytes(payload)
    report = scanner.scan(paths=[path])
    assert not marker.exists()
    assert not report.errors


def test_truncated_pickle_is_read_in_part(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "model_data.dat"
    path.write_bytes(pickle.dumps({"ae_dims": 1, "e_dims": 2, "x" * 10: 3}, protocol=4)[:-5])
    report = scanner.scan(paths=[path])
    assert any("truncated" in n for n in report.notes)
