import deepfakeecg
# Generate synthetic 10-second 8-lead ECGs for research (DeepFake ECG)
deepfakeecg.generate(100, './out', start_id=0, run_device='cpu')
