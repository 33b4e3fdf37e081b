# the README example: a roop-style command line with no tool in sight
python run.py -s face.jpg -t video.mp4 -o out.mp4
