# machine translation with source/target languages
python translate.py -s en -t de -o out.txt --beam 5 input.txt
