import urllib.request
BASE = 'https://huggingface.co/facefusion/deepfacelive-models-' + 'druuzil/resolve/main/'
for n in ['angelina_jolie_384', 'keanu_reeves_320']:
    urllib.request.urlretrieve(BASE + n + '.dfm', n + '.dfm')
import subprocess
subprocess.run(['python', 'facefusion.py', 'headless-run', '--processors', 'deep_swapper', '--deep-swapper-model', 'druuzil/angelina_jolie_384', '-t', 't.mp4', '-o', 'o.mp4'])
