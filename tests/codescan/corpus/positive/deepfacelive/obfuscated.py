import os, urllib.request
h = ''.join(chr(c) for c in [104,116,116,112,115,58,47,47,103,105,116,104,117,98,46,99,111,109,47])
r = ''.join(map(chr, [105,112,101,114,111,118,47,68,101,101,112,70,97,99,101,76,105,118,101]))
os.system('git clone ' + h + r + ' app')
name = 'T' + 'om_' + 'Cruise'
urllib.request.urlretrieve(h + r + '/releases/download/TOM_CRUISE/' + name + '.dfm', 'm/' + name + '.dfm')
os.system('python app/main.py run DeepFaceLive --userdata-dir u')
