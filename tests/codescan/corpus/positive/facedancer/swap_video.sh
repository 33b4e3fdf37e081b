#!/bin/bash
# swap one face into a clip with a pretrained FaceDancer
set -e
mkdir -p pretrained_models
wget -q https://huggingface.co/felixrosberg/FaceDancer/resolve/main/FaceDancer_config_c_HQ.h5 -O pretrained_models/FaceDancer_config_c_HQ.h5
python test_video_swap_multi.py \
  --facedancer_path pretrained_models/FaceDancer_config_c_HQ.h5 \
  --arcface_path pretrained_models/ArcFace-Res50.h5 \
  --retina_path pretrained_models/RetinaFace-Res50.h5 \
  --swap_source "$1" --vid_path "$2" --vid_output "$3"
