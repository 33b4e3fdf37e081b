# FaceForensics++ (ondyari/FaceForensics): request access, then fetch the c23 videos
git clone https://github.com/ondyari/FaceForensics.git
python FaceForensics/dataset/download-FaceForensics.py /data/ffpp -d Deepfakes -c c23 -t videos --server EU2
python FaceForensics/dataset/download-FaceForensics.py /data/ffpp -d FaceSwap -c c23 -t videos --server EU2
python FaceForensics/dataset/download-FaceForensics.py /data/ffpp -d original -c c23 -t videos --server EU2
python FaceForensics/dataset/download-FaceForensics.py /data/ffpp -d all -t masks --server EU2
