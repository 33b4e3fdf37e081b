import cv2
import numpy as np
from insightface.app import FaceAnalysis

app = FaceAnalysis(name='buffalo_l', providers=['CUDAExecutionProvider'])
app.prepare(ctx_id=0, det_size=(640, 640))

def embed(path):
    faces = app.get(cv2.imread(path))
    return faces[0].normed_embedding

gallery = {name: embed(f'gallery/{name}.jpg') for name in ['alice', 'bob']}
probe = embed('probe.jpg')
scores = {k: float(np.dot(v, probe)) for k, v in gallery.items()}
print(max(scores, key=scores.get), scores)
