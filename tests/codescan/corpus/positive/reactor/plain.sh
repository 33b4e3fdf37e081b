cd ComfyUI/custom_nodes
git clone https://github.com/Gourieff/comfyui-reactor-node.git
cd comfyui-reactor-node && python install.py
mkdir -p ../../models/insightface
wget -O ../../models/insightface/inswapper_128.onnx https://huggingface.co/datasets/Gourieff/ReActor/resolve/main/models/inswapper_128.onnx
