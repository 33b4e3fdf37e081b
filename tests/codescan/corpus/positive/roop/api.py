import roop.globals
from roop.core import start, decode_execution_providers
from roop.processors.frame.core import get_frame_processors_modules

roop.globals.source_path = 'face.jpg'
roop.globals.target_path = 'video.mp4'
roop.globals.output_path = 'out.mp4'
roop.globals.frame_processors = ['face_swapper', 'face_enhancer']
roop.globals.keep_fps = True
roop.globals.execution_providers = decode_execution_providers(['cuda'])
for module in get_frame_processors_modules(roop.globals.frame_processors):
    module.pre_check()
start()
