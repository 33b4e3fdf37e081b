"""A matcher process holds only what it uses (issue 18 point 4, "matchers that stay small"):
started in a fresh interpreter, answering a hash lookup and a photo upload that both match,
it has not loaded PyAV (videos), Alembic (migrations), the code scanner or the test-media
generator, which together cost about 46 MiB resident in each worker (docs/benchmarks.md has the
measured sizes, from bench/service_lookup.py). Checked in ``sys.modules``, not by measuring
memory; the first video it is given still loads PyAV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.hashing import hash_bytes
from shieldwall.media import synthetic
from shieldwall.people.keys import create_key
from shieldwall.store import Database

SRC = Path(__file__).resolve().parents[2] / "src"
#: What a matcher must not load for photos and hashes (top-level names in ``sys.modules``).
NOT_FOR_PHOTOS = (
    "av",
    "alembic",
    "shieldwall.codescan",
    "nbformat",
    "shieldwall.media.synthetic",
    "cryptography",  # at-rest keys and federation signatures: loaded with the first key
    "authlib",  # single sign-on: loaded with the first sign-on
    "joserfc",
    "pillow_heif",  # HEIC: loaded with the first file in an ISO media container
)

_PROBE = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from shieldwall.config import Settings
from shieldwall.server.app import create_app

url, data_dir, token, photo, pdq, video = sys.argv[1:]
app = create_app(Settings(data_dir=data_dir, database_url=url), role="matcher")
answers = {}
with TestClient(app, headers={"authorization": "Bearer " + token}) as client:
    signals = {"signals": [{"type": "pdq", "value": pdq}]}
    answers["hash"] = client.post("/v1/lookup/signals", json=signals).json()["matched"]
    upload = {"file": ("copy.jpg", Path(photo).read_bytes(), "image/jpeg")}
    answers["photo"] = client.post("/v1/lookup", files=upload).json()["matched"]
    before = sorted(sys.modules)
    clip = {"file": ("clip.mp4", Path(video).read_bytes(), "video/mp4")}
    answers["video"] = client.post("/v1/lookup", files=clip).status_code
print(json.dumps({"answers": answers, "before": before, "after": sorted(sys.modules)}))
"""


def test_a_matcher_answering_photos_loads_no_video_migration_or_scanner_code(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    db = Database(url)
    create_bank(db, "ncii", "block")
    picture = synthetic.encode(synthetic.scene(seed=41), quality=90)
    pdq = hash_bytes(picture).signals["pdq"]
    add_entries(db, "ncii", [NewEntry([pdq])])
    _, token = create_key(db, "ncii", "match")
    db.dispose()
    photo = tmp_path / "copy.jpg"
    photo.write_bytes(picture)
    video = tmp_path / "clip.mp4"
    synthetic.video(video, [synthetic.scene(seed=50 + i, width=160, height=120) for i in range(6)])

    env = {**os.environ, "PYTHONPATH": str(SRC)}
    args = [url, str(tmp_path / "data"), token, str(photo), pdq.value, str(video)]
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["answers"] == {"hash": True, "photo": True, "video": 200}
    loaded = sorted(set(found["before"]) & set(NOT_FOR_PHOTOS))
    assert loaded == [], f"a matcher answering photos loaded {loaded}"
    # the guard must not pass because the names are wrong: the video loads PyAV
    assert "av" in found["after"]
