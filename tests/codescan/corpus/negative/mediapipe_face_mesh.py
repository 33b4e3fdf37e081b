import cv2
import mediapipe as mp
mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=2)
cap = cv2.VideoCapture(0)
while cap.isOpened():
    ok, frame = cap.read()
    if not ok:
        break
    res = mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cv2.imshow('mesh', frame)
