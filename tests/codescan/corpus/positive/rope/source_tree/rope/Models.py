import onnxruntime


class Models:
    def __init__(self):
        self.providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        self.swapper_model = []

    def load_swapper(self):
        self.swapper_model = onnxruntime.InferenceSession(
            "./models/inswapper_128.fp16.onnx", providers=self.providers
        )
