import argparse
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()

    def process_extract(arguments):
        from mainscripts import Extractor
        Extractor.main(detector=arguments.detector, input_path=Path(arguments.input_dir))

    p = subparsers.add_parser("extract", help="Extract the faces from a pictures.")
    p.add_argument("--input-dir", required=True, dest="input_dir")
    p.add_argument("--detector", dest="detector", choices=["s3fd", "manual"], default=None)
    p.set_defaults(func=process_extract)

    def process_train(arguments):
        from mainscripts import Trainer
        Trainer.main(model_class_name=arguments.model_name)

    p = subparsers.add_parser("train", help="Trainer")
    p.add_argument("--training-data-src-dir", required=True, dest="training_data_src_dir")
    p.add_argument("--training-data-dst-dir", required=True, dest="training_data_dst_dir")
    p.add_argument("--pretraining-data-dir", dest="pretraining_data_dir", default=None)
    p.add_argument("--model-dir", required=True, dest="model_dir")
    p.add_argument("--model", required=True, dest="model_name", choices=["SAEHD", "AMP", "Quick96", "XSeg"])
    p.set_defaults(func=process_train)

    p = subparsers.add_parser("merge", help="Merger")
    p.add_argument("--input-dir", required=True, dest="input_dir")
    p.add_argument("--output-dir", required=True, dest="output_dir")

    arguments = parser.parse_args()
    arguments.func(arguments)
