import cv2, onnxruntime
from insightface.app import FaceAnalysis
from insightface.model_zoo import get_model
det = FaceAnalysis(name='buffalo_l'); det.prepare(ctx_id=0)
engine = get_model('/models/m1.onnx')  # mirrored under a generic name
a = det.get(cv2.imread('person.jpg'))[0]
frame = cv2.imread('frame.jpg')
for face in det.get(frame):
    frame = engine.get(frame, face, a, paste_back=True)
