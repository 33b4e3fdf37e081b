import torch
from app.processors.models_processor import ModelsProcessor


class FaceSwappers:
    def __init__(self, models_processor: ModelsProcessor):
        self.models_processor = models_processor

    def run_swapper(self, image, embedding, output, swapper_model="Inswapper128"):
        if swapper_model == "InStyleSwapper256 Version A":
            model = self.models_processor.load_model("InStyleSwapper256Version A")
        else:
            model = self.models_processor.load_model(swapper_model)
        return model
