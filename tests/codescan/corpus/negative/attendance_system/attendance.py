"""Classroom attendance: match faces from the door camera against enrolled students."""
import argparse
import csv
import datetime
from pathlib import Path

import cv2
import face_recognition


def load_known(folder: Path):
    names, encodings = [], []
    for image_path in sorted(folder.glob("*.jpg")):
        image = face_recognition.load_image_file(image_path)
        found = face_recognition.face_encodings(image)
        if found:
            names.append(image_path.stem)
            encodings.append(found[0])
    return names, encodings


def main() -> None:
    parser = argparse.ArgumentParser(description="mark attendance from a camera or a video")
    parser.add_argument("-s", "--students", default="known_faces", help="folder of enrolled student photos")
    parser.add_argument("-t", "--tolerance", type=float, default=0.5)
    parser.add_argument("-o", "--output", default="attendance.csv")
    parser.add_argument("--source", default="0", help="camera index or video file")
    args = parser.parse_args()
    names, known = load_known(Path(args.students))
    capture = cv2.VideoCapture(int(args.source) if args.source.isdigit() else args.source)
    seen = set()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        for encoding in face_recognition.face_encodings(rgb, face_recognition.face_locations(rgb)):
            matches = face_recognition.compare_faces(known, encoding, tolerance=args.tolerance)
            if True in matches:
                seen.add(names[matches.index(True)])
    with open(args.output, "w", newline="") as fh:
        writer = csv.writer(fh)
        for name in sorted(seen):
            writer.writerow([name, datetime.date.today().isoformat()])


if __name__ == "__main__":
    main()
