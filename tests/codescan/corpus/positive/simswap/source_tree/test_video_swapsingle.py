import cv2
import torch
from models.models import create_model
from options.test_options import TestOptions
from insightface_func.face_detect_crop_single import Face_detect_crop
from util.videoswap import video_swap

if __name__ == "__main__":
    opt = TestOptions().parse()
    model = create_model(opt)
    model.eval()
    app = Face_detect_crop(name="antelope", root="./insightface_func/models")
    video_swap(opt.video_path, None, None, opt.output_path, model, app, crop_size=opt.crop_size)
