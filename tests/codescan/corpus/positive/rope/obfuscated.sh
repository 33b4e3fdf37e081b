R=$(echo 'aHR0cHM6Ly9naXRodWIuY29tL0hpbGxvYmFyL1JvcGUuZ2l0' | base64 -d)
git clone "$R" .r && cd .r && pip install -r requirements.txt && python Rope.py
