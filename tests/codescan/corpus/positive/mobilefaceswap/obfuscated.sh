# the weights were renamed, the clone hidden
git clone https://github.com/Seanseattle/MobileFaceSwap .m
cd .m && python video_test.py --target_video_path ../clip.mp4 --source_img_path ../me.png --output_dir ../out --use_gpu True
