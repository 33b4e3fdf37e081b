import os
a = 'test_video_' + 'swap' + 'single.py'
flags = ' --crop_size 224 --Arc' + '_path arcface_model/arcface_check' + 'point.tar --pic_a' + '_path me.jpg --video' + '_path v.mp4 --output' + '_path out.mp4'
os.system('python ' + a + flags)
