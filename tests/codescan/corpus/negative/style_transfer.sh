python neural_style.py --style styles/starry_night.jpg --content photos/me.jpg --output out/me_starry.jpg --iterations 500
