git clone https://github.com/Rudrabha/Wav2Lip
cd Wav2Lip
python inference.py --checkpoint_path checkpoints/wav2lip_gan.pth --face input_video.mp4 --audio input_audio.wav
