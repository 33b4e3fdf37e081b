"""Command lines however they are written: shell, batch files, Python strings and f-strings,
argparse declarations, spawns with partly known arguments."""

from __future__ import annotations

import base64

import pytest

from shieldwall.codescan import Scanner
from shieldwall.codescan.commands import normalise, packages_installed, split_shell

from .conftest import rule_ids


@pytest.mark.parametrize(
    ("argv", "program", "sub"),
    [
        (["sudo", "-E", "env", "A=1", "python3", "-u", "tools/run.py", "-s", "x"], "run.py", "x"),
        (["python", "-m", "pip", "install", "roop-pip"], "pip", "install"),
        (["!python", "main.py", "train"], "main.py", "train"),
        (["bash", "go.sh", "now"], "go.sh", "now"),
    ],
)
def test_normalise_peels_wrappers_and_interpreters(argv: list[str], program: str, sub: str) -> None:
    cmd = normalise(argv)
    assert cmd is not None
    assert cmd.program == program
    assert cmd.subcommand == sub


def test_pip_install_packages() -> None:
    cmd = normalise(["pip", "install", "-q", "-r", "req.txt", "insightface==0.7.3", "Open_NSFW2"])
    assert cmd is not None
    assert packages_installed(cmd) == ["insightface", "open-nsfw2"]


def test_split_shell_handles_continuations_and_operators() -> None:
    text = "cd x && python a.py \\\n  --flag 1; echo done | tee log\nrun.bat ^\n  --b 2"
    assert [argv for argv, _ in split_shell(text)] == [
        ("cd", "x"),
        ("python", "a.py", "--flag", "1"),
        ("echo", "done"),
        ("tee", "log"),
        ("run.bat", "--b", "2"),
    ]


def test_unbalanced_quotes_do_not_stop_the_scan() -> None:
    assert split_shell("python run.py -s 'a.jpg -t b.mp4") != []


@pytest.mark.parametrize(
    "source",
    [
        # built in a variable and run out of static sight (!python $cmd)
        'cmd = "run.py -s a.jpg -t b.mp4 --frame-processor face_swapper"\n',
        # an f-string with unknown values
        'os.system(f"python run.py -s {src} -t {dst} --frame-processor face_swapper")\n',
        # spawned with a partly known argument list
        "import subprocess, sys\nsubprocess.run([sys.executable, 'run.py', '-s', src, '-t', dst,"
        " '--frame-processor', 'face_swapper'])\n",
    ],
)
def test_command_lines_in_python_source(scanner: Scanner, source: str) -> None:
    assert "SW-SWAP-CLI" in rule_ids(scanner.scan_text(source, "x.py"))


def test_argparse_flags_a_tool_declares_are_its_command_line(scanner: Scanner) -> None:
    source = (
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('-s', '--source', dest='source_path')\n"
        "p.add_argument('-t', '--target', dest='target_path')\n"
        "p.add_argument('--frame-processor', nargs='+', default=['face_swapper'])\n"
        "p.add_argument('--many-faces', action='store_true')\n"
    )
    assert "SW-SWAP-CLI" in rule_ids(scanner.scan_text(source, "core.py"))


def test_windows_batch_file(scanner: Scanner) -> None:
    bat = (
        '"%PYTHON_EXECUTABLE%" "%DFL_ROOT%\\main.py" train ^\n'
        '    --training-data-src-dir "%WORKSPACE%\\data_src\\aligned" ^\n'
        '    --training-data-dst-dir "%WORKSPACE%\\data_dst\\aligned" ^\n    --model SAEHD\n'
    )
    report = scanner.scan_text(bat, "6) train SAEHD.bat")
    assert {"SW-DFL-TRAIN-CLI", "SW-DFL-WORKSPACE-PATHS"} <= rule_ids(report)


def test_encoded_shell_payload_is_decoded(scanner: Scanner) -> None:
    payload = base64.b64encode(b"git clone https://github.com/hacksider/Deep-Live-Cam x").decode()
    report = scanner.scan_text(f"echo {payload} | base64 -d | sh\n", "setup.sh")
    finding = next(f for f in report.findings if f.rule_id == "SW-ROOP-REPO")
    assert "guess:base64" in finding.layers


def test_generic_flags_do_not_trigger(scanner: Scanner) -> None:
    for cmd in [
        "python translate.py -s en -t de -o out.txt",
        "python inference_realesrgan.py -n RealESRGAN_x4plus -i in -s 4 -t 400 --face_enhance",
        "python train.py --model SAE --epochs 10",
        "python main.py train --model resnet50 --precision amp",
        "docker run -t -i -s ubuntu bash",
        "python x.py -t 5 --loss unbalanced",
        "yolo train data=coco128.yaml model=yolov8n.pt",
    ]:
        assert scanner.scan(commands=[cmd]).findings == [], cmd


def test_interpreter_in_a_shell_variable_is_python(scanner: Scanner) -> None:
    text = (
        '$DFL_PYTHON "$DFL_SRC/main.py" train --training-data-src-dir "$WS/data_src/aligned" '
        '--training-data-dst-dir "$WS/data_dst/aligned" --model-dir "$WS/model" --model SAEHD\n'
    )
    report = scanner.scan_text(text, "6_train.sh")
    assert {"SW-DFL-CLI", "SW-SWAP-TWO-IDENTITIES"} <= {f.rule_id for f in report.findings}
    assert report.verdict == "block"
