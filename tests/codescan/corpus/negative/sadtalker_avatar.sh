git clone https://github.com/OpenTalker/SadTalker
cd SadTalker
python inference.py --driven_audio examples/driven_audio/bus_chinese.wav --source_image examples/source_image/full_body_1.png --enhancer gfpgan --still --preprocess full
