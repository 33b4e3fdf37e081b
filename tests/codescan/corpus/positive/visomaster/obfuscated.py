import base64, subprocess
repo = base64.b64decode('aHR0cHM6Ly9naXRodWIuY29tL3Zpc29tYXN0ZXIvVmlzb01hc3Rlci5naXQ=').decode()
subprocess.run(['git', 'clone', repo, 'vm'], check=True)
subprocess.run(['python', 'vm/download_models.py'], check=True)
subprocess.run(['python', 'vm/main.py'], check=True)
