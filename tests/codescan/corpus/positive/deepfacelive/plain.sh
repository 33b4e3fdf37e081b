#!/bin/sh
git clone https://github.com/iperov/DeepFaceLive
cd DeepFaceLive
mkdir -p userdata/dfm_models
wget -P userdata/dfm_models https://github.com/iperov/DeepFaceLive/releases/download/KEANU_REEVES/Keanu_Reeves.dfm
python main.py run DeepFaceLive --userdata-dir ../userdata
