import subprocess, sys
pkgs = ['ro' + 'op' + '-pip', 'insight' + 'face', 'onnxruntime-gpu', 'open' + 'nsfw2']
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *pkgs])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + pkgs)
