# tool was renamed to fs.py
python fs.py extract -i a.mp4 -o fa
python fs.py extract -i b.mp4 -o fb
python fs.py train -A fa -B fb -m mdl -t dfl_sae
python fs.py convert -i b.mp4 -o out -m mdl
