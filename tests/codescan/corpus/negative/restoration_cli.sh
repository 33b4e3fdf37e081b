# restore old family photos, then a video with CodeFormer
git clone https://github.com/TencentARC/GFPGAN.git && cd GFPGAN
pip install basicsr facexlib realesrgan && pip install -r requirements.txt && python setup.py develop
wget https://github.com/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.4.pth -P experiments/pretrained_models
python inference_gfpgan.py -i inputs/whole_imgs -o results -v 1.4 -s 2 --bg_upsampler realesrgan
cd .. && git clone https://github.com/sczhou/CodeFormer && cd CodeFormer
python basicsr/setup.py develop
python scripts/download_pretrained_models.py facelib
python inference_codeformer.py -w 0.7 --input_path inputs/old_video.mp4 --bg_upsampler realesrgan --face_upsample
