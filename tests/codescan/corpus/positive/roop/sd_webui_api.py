import base64
import requests

face = base64.b64encode(open("face.jpg", "rb").read()).decode()
payload = {
    "init_images": [base64.b64encode(open("photo.png", "rb").read()).decode()],
    "denoising_strength": 0.0,
    "alwayson_scripts": {
        "roop": {"args": [face, True, "0", "/models/roop/inswapper_128.onnx", "CodeFormer", 1, None, 1, "None", False, True]}
    },
}
requests.post("http://127.0.0.1:7860/sdapi/v1/img2img", json=payload, timeout=600)
