python attendance.py -s known_faces -t 0.45 -o today.csv --source lecture.mp4
