from facefusion import state_manager
from facefusion.processors.types import FaceSwapperInputs

MODEL_SET = {
    "inswapper_128": {"url": "https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0/inswapper_128.onnx"},
    "simswap_256": {"url": "https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0/simswap_256.onnx"},
}


def process_frame(inputs: FaceSwapperInputs):
    return inputs.get("target_vision_frame")
