#!/usr/bin/env python3
""" The master faceswap.py script """
import sys
from lib.cli import args as cli_args
from lib.cli.args_train import TrainArgs
from lib.cli.args_extract_convert import ConvertArgs, ExtractArgs

_PARSER = cli_args.FullHelpArgumentParser()


def _main():
    subparser = _PARSER.add_subparsers()
    ExtractArgs(subparser, "extract", "Extract the faces from pictures or a video")
    TrainArgs(subparser, "train", "Train a model for the two faces A and B")
    ConvertArgs(subparser, "convert", "Convert source pictures or video to a new one with the face swapped")
    arguments = _PARSER.parse_args()
    arguments.func(arguments)


if __name__ == "__main__":
    _main()
