import subprocess
t = 'tr' + 'ain'
tool = ''.join(['f', 'ace', 'swap', '.py'])
subprocess.check_call(['python', tool, t, '-A', 'x', '-B', 'y', '-m', 'mdl', '-t', 'ph' + 'aze_a'])
subprocess.check_call(['python', tool, 'con' + 'vert', '-i', 'in.mp4', '-o', 'out', '-m', 'mdl'])
