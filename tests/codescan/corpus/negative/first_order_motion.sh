git clone https://github.com/AliaksandrSiarohin/first-order-model
cd first-order-model
python demo.py --config config/vox-256.yaml --driving_video driving.mp4 --source_image me.png --checkpoint vox-cpk.pth.tar --relative --adapt_scale
