import os
import torch
from PIL import Image
from swapping import BlendSwap
from align_tools import FaceAlignImageInfer

weights = os.path.join(os.path.dirname(__file__), "checkpoints", "blendswap.pth")
model = BlendSwap()
model.load_state_dict(torch.load(weights, map_location="cpu"))
aligner = FaceAlignImageInfer()
src = aligner.align(Image.open("identity.jpg"))
tgt = aligner.align(Image.open("frame.jpg"))
with torch.no_grad():
    out = model(tgt, src)
