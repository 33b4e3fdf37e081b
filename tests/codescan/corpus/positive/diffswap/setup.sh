#!/bin/sh
git clone https://github.com/wl-zhao/DiffSwap.git && cd DiffSwap
conda env create -f env.yaml
pip install -r requirements.txt
gdown --folder 1bEgYPzsXIcqfAvJOUb8Mkf2E7qrGh4oo -O checkpoints   # diffswap.pth
python pipeline.py
