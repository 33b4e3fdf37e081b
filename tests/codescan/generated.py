"""Corpus cases with model files, generated (never downloaded): tiny ONNX graphs with a
swapper's structure, PyTorch-style zip checkpoints whose pickled state-dict keys show a
generator's architecture, and weight files named as each tool names them, each beside the
few lines of a job that uses them. Shared by the corpus tests and bench/codescan_accuracy.py.

Every file computes nothing: graphs are identity maps, "weights" are a handful of zeros.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["Case", "build", "checkpoint_zip", "swapper_onnx"]


@dataclass(frozen=True)
class Case:
    """One generated case: ``expected`` is ``block``, ``warn`` or ``allow``."""

    family: str
    name: str
    path: Path
    expected: str


def swapper_onnx(path: Path, side: int = 128, emap: bool = True) -> Path:
    """A graph shaped like an identity-conditioned swapper: a 1x3xSxS target face, a 1x512
    source identity, optionally inswapper's 512x512 ``emap`` initializer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, side, side])
    source = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, side, side])
    inits = (
        [numpy_helper.from_array(np.eye(512, dtype=np.float32), "onnx::MatMul_9")] if emap else []
    )
    nodes = [helper.make_node("Identity", ["target"], ["output"])]
    if emap:
        nodes.append(helper.make_node("MatMul", ["source", "onnx::MatMul_9"], ["latent"]))
    graph = helper.make_graph(nodes, "g", [target, source], [out], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def recogniser_onnx(path: Path) -> Path:
    """An ArcFace-style recogniser: one 1x3x112x112 input."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 112, 112])
    out = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 3, 112, 112])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["embedding"])], "r", [image], [out]
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def checkpoint_zip(path: Path, keys: list[str]) -> Path:
    """A file laid out like ``torch.save`` output (a zip with ``archive/data.pkl``) holding an
    ordered dict of these state-dict keys, each mapped to a tiny list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = OrderedDict((k, [0.0, 0.0]) for k in keys)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(state, protocol=2))
        zf.writestr("archive/version", "3\n")
    path.write_bytes(buf.getvalue())
    return path


def _weights(path: Path, magic: bytes = b"\x89HDF\r\n\x1a\n") -> Path:
    """An opaque weights file (HDF5 or Paddle header and zeros)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(magic + bytes(4096))
    return path


def _text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


GHOST_KEYS = (
    [f"generator.AADBlk{i}.AAD{j}.conv_h.weight" for i in range(1, 9) for j in (1, 2)]
    + [f"encoder.conv{i}.conv.weight" for i in range(1, 8)]
    + [f"encoder.deconv{i}.deconv.weight" for i in range(1, 7)]
)
SIMSWAP_KEYS = (
    ["first_layer.1.weight", "down1.0.weight", "down2.0.weight", "down3.0.weight"]
    + [f"BottleNeck.{i}.style{j}.linear.weight" for i in range(9) for j in (1, 2)]
    + ["last_layer.1.weight"]
)
RESNET_KEYS = ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "fc.weight"]


def _inswapper_generic(root: Path) -> Path:
    d = root / "inswapper-generic-model"
    _text(
        d / "swap.py",
        (
            "import cv2\nfrom insightface.app import FaceAnalysis\n"
            "from insightface.model_zoo import get_model\n"
            "det = FaceAnalysis(name='buffalo_l'); det.prepare(ctx_id=0)\n"
            "engine = get_model('models/m1.onnx')\nsrc = det.get(cv2.imread('person.jpg'))[0]\n"
            "frame = cv2.imread('frame.jpg')\nfor face in det.get(frame):\n"
            "    frame = engine.get(frame, face, src, paste_back=True)\n"
            "cv2.imwrite('out.jpg', frame)\n"
        ),
    )
    swapper_onnx(d / "models" / "m1.onnx")
    return d


def _ff_256(root: Path) -> Path:
    d = root / "facefusion-mirrored-model"
    swapper_onnx(d / ".assets" / "models" / "model_a.onnx", side=256, emap=False)
    _text(
        d / "go.sh",
        "python ff.py headless-run --processors face_swapper -s me.jpg -t clip.mp4 -o out.mp4\n",
    )
    return d


def _ghost_ckpt(root: Path) -> Path:
    d = root / "ghost-checkpoint"
    checkpoint_zip(d / "weights" / "G_latest.pth", GHOST_KEYS)
    _text(
        d / "infer.sh",
        "python inference.py --G_path weights/G_latest.pth --source_paths me.jpg "
        "--target_video clip.mp4 --out_video_name out.mp4\n",
    )
    return d


def _simswap_ckpt(root: Path) -> Path:
    d = root / "simswap-checkpoint"
    checkpoint_zip(d / "checkpoints" / "people" / "latest_net_G.pth", SIMSWAP_KEYS)
    _text(
        d / "swap.sh",
        "python test_video_swapsingle.py --crop_size 224 --name people "
        "--pic_a_path me.jpg --video_path clip.mp4 --output_path out.mp4\n",
    )
    return d


def _dfl_state(root: Path) -> Path:
    d = root / "dfl-model-state"
    opts = {
        "ae_dims": 256,
        "e_dims": 64,
        "d_dims": 64,
        "d_mask_dims": 22,
        "face_type": "wf",
        "archi": "liae-ud",
        "random_warp": True,
        "true_face_power": 0.0,
        "gan_power": 0.1,
        "masked_training": True,
        "eyes_mouth_prio": True,
    }
    (d / "workspace" / "model").mkdir(parents=True)
    (d / "workspace" / "model" / "new_SAEHD_data.dat").write_bytes(
        pickle.dumps({"iter": 120000, "options": opts}, protocol=4)
    )
    _text(
        d / "train.bat",
        "@echo off\npython main.py train --training-data-src-dir %WS%\\data_src\\aligned "
        "--training-data-dst-dir %WS%\\data_dst\\aligned --model-dir %WS%\\model --model SAEHD\n",
    )
    return d


def _facedancer_model(root: Path) -> Path:
    d = root / "facedancer-model"
    _weights(d / "pretrained_models" / "FaceDancer_config_c_HQ.h5")
    _weights(d / "pretrained_models" / "ArcFace-Res50.h5")
    _text(
        d / "swap.sh",
        "python test_video_swap_multi.py --facedancer_path pretrained_models/fd.h5 "
        "--swap_source me.jpg --vid_path clip.mp4 --vid_output out.mp4\n",
    )
    return d


def _mfs_model(root: Path) -> Path:
    d = root / "mobilefaceswap-model"
    _weights(d / "checkpoints" / "MobileFaceSwap_224.pdparams", b"\x00\x00paddle")
    _text(
        d / "run.sh",
        "python video_test.py --target_video_path data/clip.mp4 "
        "--source_img_path data/me.png --output_dir results --use_gpu True\n",
    )
    return d


def _blendface_model(root: Path) -> Path:
    d = root / "blendface-model"
    checkpoint_zip(d / "checkpoints" / "blendswap.pth", RESNET_KEYS)
    _text(
        d / "swap.py",
        "import torch\nfrom swapping import BlendSwap\nmodel = BlendSwap()\n"
        "model.load_state_dict(torch.load('checkpoints/weights.pth', map_location='cpu'))\n",
    )
    return d


def _diffswap_model(root: Path) -> Path:
    d = root / "diffswap-model"
    checkpoint_zip(d / "checkpoints" / "diffswap.pth", RESNET_KEYS)
    _text(
        d / "configs" / "diffswap" / "default-project.yaml",
        "model:\n  base_learning_rate: 1.0e-04\n",
    )
    return d


def _rope_models(root: Path) -> Path:
    d = root / "rope-models"
    swapper_onnx(d / "models" / "swap_fp16.onnx")
    _text(
        d / "Rope.py",
        "from rope import Coordinator\n\nif __name__ == '__main__':\n    Coordinator.run()\n",
    )
    return d


def _viso_models(root: Path) -> Path:
    d = root / "visomaster-models"
    swapper_onnx(d / "model_assets" / "swapper_a.fp16.onnx", side=256, emap=False)
    _text(
        d / "main.py",
        "from app.ui import main_ui\nfrom app.processors import face_swappers\n"
        "main_ui.MainWindow().show()\n",
    )
    return d


def _reactor_models(root: Path) -> Path:
    d = root / "reactor-comfy-models"
    swapper_onnx(d / "ComfyUI" / "models" / "insightface" / "model.onnx")
    _text(
        d / "workflow_api.json",
        '{"3": {"class_type": "ReActorFaceSwap", "inputs": {"enabled": true, '
        '"swap_model": "model.onnx", "input_image": ["1", 0], "source_image": ["2", 0]}}}\n',
    )
    return d


def _roop_models(root: Path) -> Path:
    d = root / "roop-models"
    swapper_onnx(d / "models" / "face_model.onnx")
    _text(d / "go.py", "import roop.core\nroop.core.run()\n")
    return d


def _deeplivecam_models(root: Path) -> Path:
    d = root / "deep-live-cam-models"
    swapper_onnx(d / "models" / "swap.onnx")
    _text(
        d / "start.sh", "python run.py -s me.jpg -t clip.mp4 -o out.mp4 --keep-fps --many-faces\n"
    )
    return d


def _model_alone(root: Path) -> Path:
    return swapper_onnx(root / "lone-swapper" / "generic.onnx")


def _recogniser(root: Path) -> Path:
    d = root / "recognition-models"
    recogniser_onnx(d / "models" / "w600k_r50.onnx")
    checkpoint_zip(d / "checkpoints" / "resnet50.pth", RESNET_KEYS)
    _text(
        d / "verify.py",
        "from insightface.app import FaceAnalysis\napp = FaceAnalysis(name='buffalo_l')\n"
        "app.prepare(ctx_id=0)\n",
    )
    return d


_BUILDERS: list[tuple[str, str, Callable[[Path], Path]]] = [
    ("inswapper", "block", _inswapper_generic),
    ("facefusion", "block", _ff_256),
    ("ghost", "block", _ghost_ckpt),
    ("simswap", "block", _simswap_ckpt),
    ("deepfacelab", "block", _dfl_state),
    ("facedancer", "block", _facedancer_model),
    ("mobilefaceswap", "block", _mfs_model),
    ("blendface", "block", _blendface_model),
    ("diffswap", "block", _diffswap_model),
    ("rope", "block", _rope_models),
    ("visomaster", "block", _viso_models),
    ("reactor", "block", _reactor_models),
    ("roop", "block", _roop_models),
    ("deep-live-cam", "block", _deeplivecam_models),
    ("inswapper", "warn", _model_alone),
    ("negative", "allow", _recogniser),
]


def build(root: Path) -> list[Case]:
    """Write every generated case under ``root`` (an empty directory)."""
    cases = []
    for family, expected, make in _BUILDERS:
        path = make(root)
        cases.append(Case(family, f"generated/{path.name}", path, expected))
    return cases
