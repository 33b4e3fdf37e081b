from typing import Any
import insightface
import modules.globals
from modules.face_analyser import get_one_face

FACE_SWAPPER = None
NAME = "DLC.FACE-SWAPPER"


def get_face_swapper() -> Any:
    global FACE_SWAPPER
    if FACE_SWAPPER is None:
        FACE_SWAPPER = insightface.model_zoo.get_model("models/inswapper_128_fp16.onnx")
    return FACE_SWAPPER


def swap_face(source_face, target_face, temp_frame):
    return get_face_swapper().get(temp_frame, target_face, source_face, paste_back=True)
