models_list = [
    {"model_name": "Inswapper128", "local_path": "./model_assets/inswapper_128.fp16.onnx",
     "hash": "6d51a9278a1f650cffefc18ba53f38bf2769bf4bbff89267822cf72945f8a38b"},
    {"model_name": "InStyleSwapper256 Version A", "local_path": "./model_assets/InStyleSwapper256_Version_A.fp16.onnx"},
    {"model_name": "SimSwap512", "local_path": "./model_assets/simswap_512_unoff.onnx"},
    {"model_name": "GhostFacev1", "local_path": "./model_assets/ghost_unet_1_block.onnx"},
]
