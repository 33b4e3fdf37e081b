"""Write the seed corpora of the fuzz targets (``fuzz/corpus/<target>/``): small, valid or
nearly valid inputs for each parser, so the fuzzer starts from the formats' structure. The
media are generated (``shieldwall.media.synthetic``), never real pictures.

    PYTHONPATH=src python fuzz/make_corpus.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from exchange_federation import signed
from exchangelib import NOW
from fuzzlib import CORPUS
from shieldwall.media import synthetic

PDQ = "f" * 16 + "0" * 16 + "a5" * 16
PDQ2 = "3c" * 32
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
VPDQ = "\n".join(f"{i},{90 + i},{PDQ if i % 2 else PDQ2},{i * 1.0:.3f}" for i in range(3))


def _write(target: str, files: dict[str, bytes]) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def images() -> dict[str, bytes]:
    rgb = synthetic.scene(7, 48, 32)
    files = {
        "scene.jpg": synthetic.encode(rgb, "JPEG", quality=60),
        "scene.png": synthetic.encode(rgb, "PNG"),
        "scene.gif": synthetic.encode(rgb, "GIF"),
        "scene.webp": synthetic.encode(rgb, "WEBP", quality=50),
        "scene.tiff": synthetic.encode(rgb, "TIFF"),
        "scene.bmp": synthetic.encode(synthetic.scene(3, 16, 16), "BMP"),
        "gray.png": synthetic.encode(rgb[:, :, 0], "PNG"),
    }
    return files


def videos() -> dict[str, bytes]:
    frames = [synthetic.scene(i, 32, 32) for i in range(4)]
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, codec in (("clip.mp4", "libx264"), ("clip.webm", "libvpx-vp9")):
            path = synthetic.video(Path(tmp) / name, frames, fps=4, codec=codec)
            files[name] = path.read_bytes()
        path = synthetic.video(Path(tmp) / "rotated.mp4", frames[:2], fps=2, rotation=90)
        files["rotated.mp4"] = path.read_bytes()
    return files


def notices() -> dict[str, bytes]:
    notice = {
        "reporter_name": "Alex Example",
        "reporter_email": "alex@example.org",
        "signature": "Alex Example",
        "explanation": "This is an intimate image of me shared without my consent.",
        "urls": ["https://host.example/p/1.jpg"],
        "content_kind": "real",
        "declares_good_faith_non_consent": True,
        "declares_accurate_and_complete": True,
        "declares_intimate_image": True,
        "declares_depicted_or_acting_for_them": True,
        "declares_good_faith_and_true": True,
    }
    flagger = {**notice, "source": "trusted_flagger", "trusted_flagger_token": "flagger-token-1"}
    agent = {**notice, "authorised_agent": True, "authority_explanation": "I act for her."}
    form = (
        "reporter_name=Alex&reporter_email=alex%40example.org&signature=Alex&explanation="
        "shared+without+my+consent&urls=https%3A%2F%2Fhost.example%2Fp%2F1.jpg%0D%0Ahttps%3A"
        "%2F%2Fhost.example%2Fp%2F2.jpg&content_kind=synthetic&possible_minor=on"
        "&declares_good_faith_non_consent=on&declares_accurate_and_complete=on"
        "&declares_intimate_image=on&declares_depicted_or_acting_for_them=on"
        "&declares_good_faith_and_true=on"
    )
    return {
        "api.json": b"\x00" + json.dumps(notice).encode(),
        "api-flagger.json": b"\x00" + json.dumps(flagger).encode(),
        "library-agent.json": b"\x01" + json.dumps(agent).encode(),
        "library-ids.json": b"\x01" + json.dumps({"content_ids": ["post-1"], "urls": 3}).encode(),
        "form.txt": b"\x02" + form.encode(),
    }


def imports() -> dict[str, bytes]:
    jsonl = "\n".join(
        json.dumps(r)
        for r in (
            {"signals": [{"type": "pdq", "value": PDQ, "quality": 90}], "external_ids": ["a"]},
            {"type": "md5", "value": MD5, "note": "exact", "provenance": "partner"},
            {"signals": [{"type": "vpdq", "value": VPDQ}], "withdrawn_ids": ["b"]},
        )
    )
    csv = f"type,value,quality,external_ids,note\npdq,{PDQ},80,a;b,one\nmd5,{MD5},,,\n"
    signals = f"# comment\npdq:{PDQ}:95\nmd5:{MD5}\nvpdq:{VPDQ.replace(chr(10), ';')}\n"
    threatexchange = f"pdq {PDQ}\nmd5 {MD5}\n"
    return {
        "jsonl.txt": b"\x00" + jsonl.encode(),
        "csv.txt": b"\x01" + csv.encode(),
        "signals.txt": b"\x02" + signals.encode(),
        "threatexchange.txt": b"\x03" + threatexchange.encode(),
    }


def notebooks() -> dict[str, bytes]:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "source": ["# Demo\n", "Some text."], "metadata": {}},
            {
                "cell_type": "code",
                "source": "!pip install requests\n%cd /tmp\nimport os\nos.system('ls')\n",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}],
                "metadata": {},
                "execution_count": 1,
            },
            {
                "cell_type": "code",
                "source": [
                    "%%bash\n",
                    "export A=1\n",
                    "echo $A && git clone https://x.example/r\n",
                ],
                "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}}],
                "metadata": {},
                "execution_count": 2,
            },
        ],
    }
    return {
        "demo-notebook.json": json.dumps(nb).encode(),
        "empty-notebook.json": b'{"cells": [], "nbformat": 4}',
    }


def scripts() -> dict[str, bytes]:
    python = (
        "import base64, subprocess\n"
        "exec(base64.b64decode('cHJpbnQoMSk=').decode())\n"
        "getattr(__import__('os'), 'sys' + 'tem')('echo hi')\n"
        "x = ''.join(chr(c) for c in [112, 105, 112])\n"
        "subprocess.run(['pip', 'install', 'onnxruntime'])\n"
    )
    shell = (
        "#!/bin/sh\nset -e\npip install -U torch==2.1 && git clone https://x.example/r \\\n  repo\n"
    )
    batch = "@echo off\r\npython -m pip install tensorflow ^\r\n  numpy\r\n"
    requirements = "numpy>=1.26\n-r other.txt\ninsightface==0.7 ; python_version<'3.12'\n"
    pyproject = '[project]\nname = "x"\ndependencies = ["onnxruntime>=1", "opencv-python"]\n'
    dockerfile = "FROM python:3.11\nRUN pip install -r requirements.txt && apt-get update\n"
    return {
        "python.txt": b"\x00" + python.encode(),
        "shell.txt": b"\x01" + shell.encode(),
        "batch.txt": b"\x02" + batch.encode(),
        "requirements.txt": b"\x03" + requirements.encode(),
        "pyproject.txt": b"\x04" + pyproject.encode(),
        "dockerfile.txt": b"\x05" + dockerfile.encode(),
        "onnx.bin": b"\x06\x08\x07\x12\x04test:\x10\n\x0e\n\x01x\x12\x01y\x22\x04Relu",
        "pickle.bin": b"\x07\x80\x04\x95\x10" + bytes(7) + b"\x8c\x02os\x8c\x06system\x93.",
        "markdown.txt": b"\x09# Tools\nSee `roop` and `facefusion`.\n",
    }


def vpdq() -> dict[str, bytes]:
    return {
        "three.txt": VPDQ.encode(),
        "one.txt": f"0,100,{PDQ},0.000\n".encode(),
        "spaced.txt": f"\n 1,50,{PDQ.upper()},12.5 \n\n2,0,{PDQ2},13\n".encode(),
    }


def stopncii() -> dict[str, bytes]:
    records = [
        {"signalType": "ImagePDQ", "hashValue": PDQ, "hashStatus": "Active",
         "caseNumbers": {"case-1": "Active", "case-2": "Withdrawn"}},
        {"signalType": "ImageMD5", "hashValue": MD5, "hashStatus": "Withdrawn"},
        {"signalType": "VideoMD5", "hashValue": MD5},
    ]  # fmt: skip
    last = {"hashRecords": records, "hasMoreRecords": False, "nextSetTimestamp": 1700000000}
    more = {"hashRecords": records[:1], "hasMoreRecords": True, "nextPageToken": "t1"}
    return {"last.json": json.dumps(last).encode(), "more.json": json.dumps(more).encode()}


def ncmec() -> dict[str, bytes]:
    head = '<member id="11">Example Member</member><id>e1</id>'
    image = (
        f"<image>{head}<timestamp>2026-01-01T00:00:00Z</timestamp><classification>A1"
        f"</classification><fingerprints><md5>{MD5}</md5><pdq>{PDQ}</pdq></fingerprints>"
        "<feedback/></image>"
    )
    video = (
        f'<video><member id="12"/><id>v1</id><fingerprints><md5>{MD5}</md5></fingerprints></video>'
    )
    deleted = f"<deletedImage>{head}</deletedImage>"
    ns = 'xmlns="https://hashsharing.ncmec.org/hashsharing/v2"'
    page = (
        f'<?xml version="1.0"?><queryResult {ns}><images count="2">{image}{deleted}</images>'
        f"<videos>{video}</videos></queryResult>"
    )
    paged = (
        f"<queryResult><images>{image}</images><paging><next>/v2/entries?from=a&amp;start=2"
        "</next></paging></queryResult>"
    )
    return {"page.xml": page.encode(), "paged.xml": paged.encode()}


def federation() -> dict[str, bytes]:
    payload = {
        "version": 1,
        "instance": "inst-1",
        "bank": "shared",
        "after": 0,
        "next": 2,
        "more": False,
        "issued_at": int(NOW),
        "records": [
            {"type": "pdq", "value": PDQ, "ref": "shared/1", "withdrawn": False},
            {"type": "video_md5", "value": MD5, "ref": "shared/2", "withdrawn": True},
        ],
    }
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return {
        "signed.json": b"\x01" + text,
        "envelope.json": b"\x00" + signed(text),
        "more.json": b"\x01" + text.replace(b'"more":false', b'"more":true'),
    }


def main() -> None:
    _write("media_image", images())
    _write("media_video", videos())
    _write("notice", notices())
    _write("bank_import", imports())
    _write("codescan_notebook", notebooks())
    _write("codescan_files", scripts())
    _write("vpdq_text", vpdq())
    _write("exchange_stopncii", stopncii())
    _write("exchange_ncmec", ncmec())
    _write("exchange_federation", federation())


if __name__ == "__main__":
    main()
