git clone https://github.com/deepfakes/faceswap.git
cd faceswap && python setup.py --nvidia
python faceswap.py extract -i ~/src/person_a.mp4 -o ~/faces/a
python faceswap.py extract -i ~/src/person_b.mp4 -o ~/faces/b
python faceswap.py train -A ~/faces/a -B ~/faces/b -m ~/models/ab -t villain -bs 16
python faceswap.py convert -i ~/src/person_b.mp4 -o ~/out -m ~/models/ab -al ~/src/person_b_alignments.fsa
