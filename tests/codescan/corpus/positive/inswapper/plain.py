import cv2
import insightface
from insightface.app import FaceAnalysis

app = FaceAnalysis(name='buffalo_l')
app.prepare(ctx_id=0, det_size=(640, 640))
swapper = insightface.model_zoo.get_model('inswapper_128.onnx', download=False)

source = app.get(cv2.imread('source.jpg'))[0]
cap = cv2.VideoCapture('target.mp4')
out = cv2.VideoWriter('out.mp4', cv2.VideoWriter_fourcc(*'mp4v'), 25, (1280, 720))
while True:
    ok, frame = cap.read()
    if not ok:
        break
    for face in app.get(frame):
        frame = swapper.get(frame, face, source, paste_back=True)
    out.write(frame)
