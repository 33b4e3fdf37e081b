@echo off
rem Rope (Opal) install
git clone https://github.com/Hillobar/Rope.git
cd Rope
call conda create -n Rope python=3.10 -y
call conda activate Rope
pip install -r requirements.txt
curl -L -o models\inswapper_128.fp16.onnx https://github.com/Hillobar/Rope/releases/download/Sapphire/inswapper_128.fp16.onnx
python Rope.py
