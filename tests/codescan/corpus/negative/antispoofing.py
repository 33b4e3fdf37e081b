# Silent face anti-spoofing: is the face in front of the camera live?
import argparse
import cv2
import onnxruntime as ort
from insightface.app import FaceAnalysis

parser = argparse.ArgumentParser()
parser.add_argument('--image_name', required=True)
parser.add_argument('--model_dir', default='resources/anti_spoof_models')
args = parser.parse_args()
det = FaceAnalysis(name='buffalo_l'); det.prepare(ctx_id=0)
sess = ort.InferenceSession(f'{args.model_dir}/2.7_80x80_MiniFASNetV2.onnx')
img = cv2.imread(args.image_name)
for face in det.get(img):
    x1, y1, x2, y2 = map(int, face.bbox)
    crop = cv2.resize(img[y1:y2, x1:x2], (80, 80)).transpose(2, 0, 1)[None].astype('float32')
    live = sess.run(None, {sess.get_inputs()[0].name: crop})[0][0][1]
    print('live' if live > 0.5 else 'spoof', live)
