"""Built-in rules on snippets written differently from the corpus: each family is recognised by
its structure (flags, layouts, model names, API shapes), not by one notebook's text."""

from __future__ import annotations

import json

import pytest

from shieldwall.codescan import Scanner

from .conftest import rule_ids

CASES = [
    (
        "SW-INSWAPPER-EMAP",
        "x.py",
        "emap = numpy_helper.to_array(graph.initializer[-1])\nlatent = np.dot(e, emap)\n",
    ),
    ("SW-OTHER-SWAP-REPO", "s.sh", "git clone https://github.com/someone/FaceShifter-pytorch\n"),
    ("SW-FF-ENTRY", "s.sh", "python3 facefusion.py run --execution-providers cuda\n"),
    ("SW-FF-SWAPPER-FLAGS", "s.sh", "python go.py --face-selector-mode reference\n"),
    ("SW-DFL-TRAIN-CLI", "s.sh", "python3 tools/app.py train --training-data-src-dir a\n"),
    ("SW-DFL-MODEL-NAMES", "x.py", "shutil.copy('m/celeb_SAEHD_decoder_dst.npy', 'out')\n"),
    ("SW-FACESWAP-TRAIN-CLI", "s.sh", "python tool.py train -A a -B b -m m\n"),
    ("SW-SIMSWAP-CLI", "s.sh", "python x.py --pic_a_path a.jpg --pic_b_path b.jpg\n"),
    ("SW-GHOST-CLI", "s.sh", "python i.py --G_path w/G.pth --target_video t.mp4\n"),
    ("SW-GHOST-IMPORT", "x.py", "from network.AEI_Net import AEI_Net\n"),
    ("SW-SIMSWAP-IMPORT", "x.py", "from util.videoswap import video_swap\n"),
    ("SW-REACTOR-IMPORT", "x.py", "from scripts.reactor_swapper import swap_face\n"),
    ("SW-ROOP-IMPORT", "x.py", "import modules.processors.frame.core as fp\n"),
    (
        "SW-SWAP-MODEL-URL",
        "x.py",
        "hf = 'https://huggingface.co/someone/mirror/resolve/main/inswapper_128_fp16.onnx'\n",
    ),
    ("SW-SWAP-MODEL-NAME", "x.py", "MODEL = 'hyperswap_1b_256'\n"),
    ("SW-DFM-CELEB", "s.sh", "wget https://github.com/x/y/releases/download/v1/Some_Actor.dfm\n"),
    ("SW-FF-CELEB", "x.py", "u = 'https://huggingface.co/facefusion/deepfacelive-models-x'\n"),
    ("SW-NSFW-BYPASS", "x.py", "def predict_frame(frame):\n    return False\n"),
    ("SW-GEN-ANTI-IDLE", "x.js", "document.querySelector('colab-connect-button').click()\n"),
    ("SW-GEN-SHORTENER-CLONE", "s.sh", "git clone https://bit.ly/3abcd x\n"),
    (
        "SW-SWAP-HUB-REPO",
        "x.py",
        "hf_hub_download(repo_id='facefusion/models-3.0.0', filename='x.onnx')\n",
    ),
    ("SW-ROOP-DEPS", "requirements.txt", "insightface\nonnxruntime-gpu==1.16\nopennsfw2\n"),
]


@pytest.mark.parametrize(("rule", "name", "text"), CASES, ids=[c[0] for c in CASES])
def test_rule_recognises_a_new_variant(scanner: Scanner, rule: str, name: str, text: str) -> None:
    assert rule in rule_ids(scanner.scan_text(text, name))


LOOKALIKES = [
    ("x.py", "from deepface import DeepFace\nDeepFace.verify('a.jpg', 'b.jpg')\n"),
    ("x.py", "stroop = load('troop_stroop.csv')  # Stroop task\n"),
    ("s.sh", "git clone https://github.com/ondyari/FaceForensics\n"),
    ("x.py", "app = FaceAnalysis(name='buffalo_l')\nfaces = app.get(img)\n"),
    ("x.py", "pipe = StableDiffusionPipeline.from_pretrained(m, safety_checker=None)\n"),
    ("s.sh", "python inference_gfpgan.py -i in -o out -v 1.4 -s 2\n"),
    ("requirements.txt", "tencentcloud-sdk-python-facefusion\ndeepfake-ecg\ndeepface\n"),
]


@pytest.mark.parametrize(("name", "text"), LOOKALIKES)
def test_lookalike_snippets_are_allowed(scanner: Scanner, name: str, text: str) -> None:
    assert scanner.scan_text(text, name).verdict == "allow"


def test_argument_list_bound_to_a_name_is_a_command(scanner: Scanner) -> None:
    # cmd = [...] with unknown parts (uploaded file names), then subprocess.run(cmd).
    src = (
        "import subprocess\nsource_path, video_path = pick()\n"
        "cmd = ['python', 'run.py', '-s', source_path, '-t', video_path, '-o', 'o.mp4',\n"
        "       '--frame-processor', 'face_swapper']\nsubprocess.run(cmd)\n"
    )
    report = scanner.scan_text(src, "go.py")
    hit = next(f for f in report.findings if f.rule_id == "SW-SWAP-CLI")
    assert hit.evidence.startswith("python run.py -s <?> -t <?>")
    assert hit.location.line == 5


def test_model_named_in_its_download_url_is_one_piece_of_evidence(scanner: Scanner) -> None:
    text = "wget https://huggingface.co/x/y/resolve/main/inswapper_128.onnx -O m.onnx\n"
    report = scanner.scan_text(text, "get.sh")
    assert {f.act for f in report.findings if f.weight == "strong"} == {"obtain"}
    assert report.verdict == "warn"


def test_notebook_variables_are_expanded_in_shell_lines(scanner: Scanner) -> None:
    cells = [
        "repo = 'https://github.com/iperov/DeepFaceLab.git' #@param ['https://github.com/iperov/DeepFaceLab.git']\n"
        "ws = '/content/workspace'",
        "!git clone $repo dfl\n"
        "!python dfl/main.py train --training-data-src-dir {ws}/data_src/aligned "
        "--training-data-dst-dir ${ws}/data_dst/aligned --model SAEHD",
        "repo = !cat other.txt\n!git clone $repo other",
    ]
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": 1}
            for c in cells
        ],
    }
    report = scanner.scan_text(json.dumps(nb), "dfl.ipynb")
    assert report.verdict == "block"
    train = next(f for f in report.findings if f.rule_id == "SW-DFL-TRAIN-CLI")
    assert "/content/workspace/data_src/aligned" in train.evidence
    assert train.layers == ("$var",)
    assert train.location.cell == 2
    # Rebound from a shell command's output: no longer known, left as written.
    clones = [f for f in report.findings if f.rule_id == "SW-DFL-REPO" and f.location.cell == 3]
    assert not clones
