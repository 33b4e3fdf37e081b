# fetch the swapper weights for later; nothing runs them here
pip install insightface onnxruntime-gpu
wget -O models/inswapper_128.onnx https://huggingface.co/ezioruan/inswapper_128.onnx/resolve/main/inswapper_128.onnx
