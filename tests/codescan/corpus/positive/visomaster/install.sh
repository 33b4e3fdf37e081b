#!/bin/bash
git clone https://github.com/visomaster/VisoMaster.git
cd VisoMaster
pip install -r requirements_cu124.txt
python download_models.py
python main.py
