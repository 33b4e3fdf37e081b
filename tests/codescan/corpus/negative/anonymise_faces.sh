pip install deface
deface street_video.mp4 --replacewith blur --thresh 0.3 -o street_anonymised.mp4
ffmpeg -i street_anonymised.mp4 -i street_video.mp4 -map 0:v -map 1:a -c:v copy -c:a copy final.mp4
