git clone https://github.com/sberbank-ai/sber-swap.git
cd sber-swap
sh download_models.sh
python inference.py --G_path weights/G_unet_2blocks.pth --source_paths examples/images/elon_musk.jpg --target_video examples/videos/nggyup.mp4 --out_video_name out.mp4
