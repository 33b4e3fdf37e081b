"""Crop faces from FaceForensics++ videos (real and each manipulation method) for detector training."""
import argparse
from pathlib import Path

import cv2
from retinaface import RetinaFace

METHODS = ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"]


def crop_video(video: Path, out: Path, every: int) -> None:
    capture = cv2.VideoCapture(str(video))
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % every == 0:
            for key, face in RetinaFace.detect_faces(frame).items():
                x1, y1, x2, y2 = face["facial_area"]
                cv2.imwrite(str(out / f"{video.stem}_{index:04d}_{key}.png"), frame[y1:y2, x1:x2])
        index += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/data/ffpp")
    parser.add_argument("--compression", default="c23")
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    for method in ["original", *METHODS]:
        kind = "original_sequences/youtube" if method == "original" else f"manipulated_sequences/{method}"
        source = Path(args.root) / kind / args.compression / "videos"
        target = Path(args.root) / kind / args.compression / "faces"
        target.mkdir(parents=True, exist_ok=True)
        for video in sorted(source.glob("*.mp4")):
            crop_video(video, target, args.every)
