import argparse

import timm
import torch
from torch.utils.data import DataLoader

from dataset import FaceFrames

METHODS = ["Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter"]


def main() -> None:
    parser = argparse.ArgumentParser(description="train a real/fake face classifier")
    parser.add_argument("--real-dir", required=True)
    parser.add_argument("--fake-dir", required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("-o", "--output", default="runs/detector")
    args = parser.parse_args()
    model = timm.create_model("efficientnet_b4", pretrained=True, num_classes=1)
    data = DataLoader(FaceFrames(args.real_dir, args.fake_dir, METHODS), batch_size=32, shuffle=True)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for _ in range(args.epochs):
        for frames, labels in data:
            opt.zero_grad()
            loss_fn(model(frames).squeeze(1), labels.float()).backward()
            opt.step()
    torch.save(model.state_dict(), f"{args.output}/detector.pth")


if __name__ == "__main__":
    main()
