"""Input kinds and bad input: every input is read or gets a clear, bounded error."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from shieldwall.codescan import Scanner
from shieldwall.config import Settings

from .conftest import rule_ids

ROOP_CMD = "python run.py -s face.jpg -t clip.mp4 -o out.mp4 --frame-processor face_swapper"


def write_notebook(path: Path, *cells: str, output: str | None = None) -> Path:
    nb = new_notebook()  # type: ignore[no-untyped-call]
    for src in cells:
        nb.cells.append(new_code_cell(src))  # type: ignore[no-untyped-call]
    if output is not None:
        stream = new_output("stream", name="stdout", text=output)  # type: ignore[no-untyped-call]
        nb.cells[-1].outputs = [stream]
    nbformat.write(nb, str(path))  # type: ignore[no-untyped-call]
    return path


def test_notebook_magics_shell_lines_and_cells_are_analysed(
    scanner: Scanner, tmp_path: Path
) -> None:
    nb = write_notebook(
        tmp_path / "n.ipynb",
        "import os\n!git clone https://github.com/s0md3v/roop\n%cd roop",
        "%%bash\ncd roop\n" + ROOP_CMD,
        "files = !ls\n%pip install roop-pip",
    )
    report = scanner.scan(paths=[nb])
    ids = rule_ids(report)
    assert {"SW-ROOP-REPO", "SW-SWAP-CLI", "SW-SWAP-PACKAGES"} <= ids
    repo = next(f for f in report.findings if f.rule_id == "SW-ROOP-REPO")
    assert (repo.location.cell, repo.location.line) == (1, 2)
    cli = next(f for f in report.findings if f.rule_id == "SW-SWAP-CLI")
    assert (cli.location.cell, cli.location.line) == (2, 3)


def test_notebook_outputs_are_scanned(scanner: Scanner, tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "n.ipynb", "run()", output="[ROOP.FACE-SWAPPER] Progressing...")
    report = scanner.scan(paths=[nb])
    finding = next(f for f in report.findings if f.rule_id == "SW-ROOP-NAME")
    assert finding.location.cell == 1


def test_corrupt_notebook_is_a_clear_error(scanner: Scanner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [ {"cell_type": "code", "source": "x"')
    report = scanner.scan(paths=[bad])
    assert [e.code for e in report.errors] == ["corrupt_input"]
    assert "bad.ipynb" in report.errors[0].message
    assert report.exit_code == 2


def test_notebook_with_wrong_shape_is_a_clear_error(scanner: Scanner, tmp_path: Path) -> None:
    bad = tmp_path / "shape.ipynb"
    bad.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": [42]}))
    report = scanner.scan(paths=[bad])
    assert [e.code for e in report.errors] == ["corrupt_input"]


def test_binary_file_read_as_text_is_rejected(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "tool.py"
    path.write_bytes(b"\x00\x01\x02binary\x00" * 100)
    report = scanner.scan(paths=[path])
    assert [e.code for e in report.errors] == ["unsupported_input"]


def test_unknown_binary_is_skipped_without_error(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)) * 50)
    report = scanner.scan(paths=[path])
    assert not report.errors
    assert report.verdict == "allow"


def test_two_gigabyte_files_are_streamed_not_loaded(scanner: Scanner, tmp_path: Path) -> None:
    size = 2 * 1024**3
    names = ["huge.bin", "huge.ipynb", "huge.onnx"]
    for name in names:
        with (tmp_path / name).open("wb") as fh:
            fh.truncate(size)  # sparse: costs no disk
    report = scanner.scan(paths=[tmp_path / n for n in names])
    errors = {Path(e.path).name: e.code for e in report.errors}
    assert errors == {"huge.ipynb": "input_too_large", "huge.onnx": "input_too_large"}


def test_zip_bomb_member_is_refused_and_the_rest_still_scanned(
    scanner: Scanner, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", b"\0" * (64 * 1024 * 1024))
        zf.writestr("go.sh", ROOP_CMD + "\n")
    report = scanner.scan(paths=[bomb])
    assert any(e.code == "input_too_large" and "ratio" in e.message for e in report.errors)
    assert "SW-SWAP-CLI" in rule_ids(report)
    assert any(f.location.path.endswith("bomb.zip!go.sh") for f in report.findings)


def test_archive_limits_members_and_nesting(tmp_path: Path) -> None:
    settings = Settings.load(codescan_max_archive_members=2, codescan_max_archive_depth=1)
    small = Scanner(settings=settings)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(5):
            zf.writestr(f"f{i}.txt", "x")
    assert any("members" in e.message for e in small.scan(paths=[many]).errors)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.sh", ROOP_CMD)
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    report = small.scan(paths=[nested])
    assert any("nested" in e.message for e in report.errors)


def test_corrupt_zip_is_a_clear_error(scanner: Scanner, tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    report = scanner.scan(paths=[path])
    assert [e.code for e in report.errors] == ["corrupt_input"]


def test_requirements_pyproject_and_dockerfile(scanner: Scanner, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "insightface==0.7.3  # face analysis\nonnxruntime-gpu\nopennsfw2\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["facefusionlib>=0.1"]\n'
    )
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.11\nRUN pip install \\\n    roop-pip\nCMD ["python", "run.py", '
        '"-s", "a.jpg", "-t", "b.mp4", "--frame-processor", "face_swapper"]\n'
    )
    report = scanner.scan(paths=[tmp_path])
    ids = rule_ids(report)
    assert {"SW-ROOP-DEPS", "SW-SWAP-PACKAGES", "SW-SWAP-CLI"} <= ids
    assert report.verdict == "block"


def test_command_lines_and_python_c_payloads(scanner: Scanner) -> None:
    report = scanner.scan(
        commands=["sudo -E env X=1 python3 -u -c \"import os; os.system('" + ROOP_CMD + "')\""]
    )
    assert "SW-SWAP-CLI" in rule_ids(report)


def test_directory_walk_respects_file_limit(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.py").write_text("x = 1\n")
    report = Scanner(settings=Settings.load(codescan_max_files=3)).scan(paths=[tmp_path])
    assert any(e.code == "input_too_large" for e in report.errors)


def test_uploaded_bytes_are_read_by_name(scanner: Scanner, tmp_path: Path) -> None:
    # What an HTTP endpoint would pass on: the body of an upload, and its file name.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("job/workspace/data_src/aligned/0.jpg", b"")
        zf.writestr("job/workspace/data_dst/aligned/0.jpg", b"")
        zf.writestr("job/run.sh", ROOP_CMD)
    report = scanner.scan_text(buf.getvalue(), "upload.zip")
    assert {"SW-DFL-WORKSPACE", "SW-SWAP-CLI"} <= rule_ids(report)
    assert report.to_dict()["verdict"] == "block"


NB = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}}


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000 + "]" * 100_000,
        json.dumps({**NB, "cells": [{"cell_type": "code", "source": [1, 2], "outputs": []}]}),
        json.dumps({**NB, "cells": [{"cell_type": "code", "source": "x", "outputs": "no"}]}),
        json.dumps({**NB, "cells": None}),
        json.dumps({"nbformat": 99, "cells": []}),
        json.dumps([1, 2]),
    ],
)
def test_malformed_notebooks_are_clear_errors_or_read(scanner: Scanner, content: str) -> None:
    report = scanner.scan_text(content, "odd.ipynb")
    assert all(e.code == "corrupt_input" for e in report.errors)
    assert report.verdict == "allow"


def test_nbformat_3_notebooks_are_upgraded(scanner: Scanner) -> None:
    cell = {
        "cell_type": "code",
        "input": "!git clone https://github.com/s0md3v/roop",
        "outputs": [],
    }
    nb3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [cell]}]}
    assert "SW-ROOP-REPO" in rule_ids(scanner.scan_text(json.dumps(nb3), "old.ipynb"))


def test_installed_packages_are_not_the_jobs_code(scanner: Scanner, tmp_path: Path) -> None:
    lib = tmp_path / "env" / "lib" / "python3.11" / "site-packages" / "insightface" / "model_zoo"
    lib.mkdir(parents=True)
    (lib / "inswapper.py").write_text(
        "class INSwapper:\n    def get(self, img, t, s, paste_back=True): ...\n"
    )
    (tmp_path / "train.py").write_text("import insightface\n")
    report = scanner.scan(paths=[tmp_path])
    assert report.findings == []


def test_ipython_help_lines_do_not_hide_the_cell(scanner: Scanner, tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "n.ipynb",
        "import insightface\ninsightface.model_zoo.get_model?\n"
        "sw = insightface.model_zoo.get_model('m.onnx')\nout = sw.get(img, t, s, paste_back=True)",
    )
    report = scanner.scan(paths=[nb])
    assert "SW-SWAP-PASTEBACK" in rule_ids(report)
    assert not report.notes


def test_shell_line_continuations_in_cells(scanner: Scanner, tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "n.ipynb",
        "import os\nif True:\n    !python run.py -s a.jpg \\\n        -t b.mp4 \\\n"
        "        --frame-processor face_swapper\n    print('done')",
    )
    report = scanner.scan(paths=[nb])
    finding = next(f for f in report.findings if f.rule_id == "SW-SWAP-CLI")
    assert finding.location.line == 3
    assert not report.notes  # the Python around it still parses


def test_colab_notebook_name_is_a_file_name(scanner: Scanner) -> None:
    nb = {**NB, "metadata": {"colab": {"name": "SberSwapInference.ipynb"}}, "cells": []}
    assert "SW-GHOST-MODULES" in rule_ids(scanner.scan_text(json.dumps(nb), "upload.ipynb"))


def test_message_says_what_could_not_be_scanned(scanner: Scanner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{")
    message = scanner.scan(paths=[bad]).message()
    assert message.startswith("ALLOWED")
    assert "1 input(s) could not be scanned" in message
