import argparse
import cv2
import paddle
from models.model import FaceSwap, l2_norm
from models.arcface import IRBlock, ResNet
from utils.align_face import back_matrix, dealign, align_img
from utils.prepare_data import LandmarkModel


def image_test(args):
    paddle.set_device("gpu" if args.use_gpu else "cpu")
    faceswap_model = FaceSwap(args.use_gpu)
    id_net = ResNet(block=IRBlock, layers=[3, 4, 23, 3])
    id_net.set_dict(paddle.load("./checkpoints/arcface.pdparams"))
    faceswap_model.set_model_param(paddle.load("./checkpoints/MobileFaceSwap_224.pdparams"))
    source = cv2.imread(args.source_img_path)
    target = cv2.imread(args.target_img_path)
    return faceswap_model, id_net, source, target


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MobileFaceSwap Test")
    parser.add_argument("--source_img_path", type=str, help="path to the source image")
    parser.add_argument("--target_img_path", type=str, help="path to the target images")
    parser.add_argument("--output_dir", type=str, default="results", help="path to the output dirs")
    parser.add_argument("--use_gpu", type=bool, default=False)
    image_test(parser.parse_args())
