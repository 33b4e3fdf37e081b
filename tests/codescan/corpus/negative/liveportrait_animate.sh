git clone https://github.com/KwaiVGI/LivePortrait && cd LivePortrait
python inference.py -s assets/examples/source/s6.jpg -d assets/examples/driving/d0.mp4 -o animations/
