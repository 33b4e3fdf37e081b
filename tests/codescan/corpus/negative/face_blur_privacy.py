"""Blur every face in a video before it is published (privacy), keeping the original audio."""
import argparse
import subprocess

import cv2
import mediapipe as mp


def blur(source: str, target: str) -> None:
    detector = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.4)
    capture = cv2.VideoCapture(source)
    fps = capture.get(cv2.CAP_PROP_FPS)
    w, h = int(capture.get(3)), int(capture.get(4))
    writer = cv2.VideoWriter("blurred_noaudio.mp4", cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        result = detector.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        for det in result.detections or []:
            box = det.location_data.relative_bounding_box
            x, y, bw, bh = int(box.xmin * w), int(box.ymin * h), int(box.width * w), int(box.height * h)
            frame[y:y + bh, x:x + bw] = cv2.GaussianBlur(frame[y:y + bh, x:x + bw], (99, 99), 30)
        writer.write(frame)
    writer.release()
    subprocess.run(["ffmpeg", "-y", "-i", "blurred_noaudio.mp4", "-i", source, "-map", "0:v", "-map", "1:a?",
                    "-c:v", "libx264", "-c:a", "copy", target], check=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-i", "--input", required=True)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    blur(args.input, args.output)
