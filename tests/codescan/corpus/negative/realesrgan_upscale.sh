git clone https://github.com/xinntao/Real-ESRGAN.git
cd Real-ESRGAN && pip install basicsr facexlib gfpgan && python setup.py develop
python inference_realesrgan.py -n RealESRGAN_x4plus -i inputs -o results -s 4 -t 400 --face_enhance
