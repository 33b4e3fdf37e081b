import subprocess
# renamed fork
subprocess.run('git clone https://github.com/x-labs/ghost-faces g', shell=True)
subprocess.run('python g/infer.py --G_path weights/G_unet_3blocks.pth --source_paths a.jpg --target_video b.mp4', shell=True)
