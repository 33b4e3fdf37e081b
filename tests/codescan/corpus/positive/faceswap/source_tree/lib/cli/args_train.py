import argparse


class TrainArgs:
    def __init__(self, subparser, command, description):
        parser = subparser.add_parser(command, help=description)
        parser.add_argument("-A", "--input-A", dest="input_a", help="Input directory. A directory containing training images for face A.")
        parser.add_argument("-B", "--input-B", dest="input_b", help="Input directory. A directory containing training images for face B.")
        parser.add_argument("-m", "--model-dir", dest="model_dir", help="Model directory.")
        parser.add_argument("-t", "--trainer", default="original", choices=["dfaker", "dfl_h128", "dfl_sae", "dlight", "iae", "lightweight", "original", "phaze_a", "realface", "unbalanced", "villain"])
