#!/bin/bash
# facelab tools setup
set -e
git clone https://gitlab.com/someuser/facelab-tools.git lab
cd lab && pip install -r requirements-cuda.txt && cd ..
mkdir -p ws/data_src ws/data_dst ws/model
python lab/main.py extract --input-dir ws/data_src --output-dir ws/data_src/aligned --detector s3fd
python lab/main.py extract --input-dir ws/data_dst --output-dir ws/data_dst/aligned --detector s3fd
python lab/main.py train \
    --training-data-src-dir ws/data_src/aligned \
    --training-data-dst-dir ws/data_dst/aligned \
    --model-dir ws/model --model Quick96
python lab/main.py merge --input-dir ws/data_dst --output-dir ws/data_dst/merged --aligned-dir ws/data_dst/aligned --model-dir ws/model --model Quick96
