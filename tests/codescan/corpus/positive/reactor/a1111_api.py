import base64
import requests

SD = "http://127.0.0.1:7860"
source = base64.b64encode(open("source_face.jpg", "rb").read()).decode()
target = base64.b64encode(open("target.png", "rb").read()).decode()
# ReActor's own endpoint, then the same through img2img
requests.post(f"{SD}/reactor/image", json={"source_image": source, "target_image": target,
              "model": "inswapper_128.onnx", "face_restorer": "CodeFormer"}, timeout=300)
payload = {"init_images": [target], "alwayson_scripts": {"reactor": {"args": [source, True, "0", "0", "inswapper_128.onnx"]}}}
requests.post(f"{SD}/sdapi/v1/img2img", json=payload, timeout=300)
