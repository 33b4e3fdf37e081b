import cv2
from util.reverse2original import reverse2wholeimage


def video_swap(video_path, id_vetor, specific_person_id_nonorm, save_path, swap_model, detect_model, crop_size=224):
    pass
