git clone https://github.com/hacksider/Deep-Live-Cam.git
cd Deep-Live-Cam
wget -P models https://huggingface.co/hacksider/deep-live-cam/resolve/main/inswapper_128_fp16.onnx
wget -P models https://huggingface.co/hacksider/deep-live-cam/resolve/main/GFPGANv1.4.pth
pip install -r requirements.txt pyvirtualcam
python run.py --execution-provider cuda --live-mirror --many-faces
