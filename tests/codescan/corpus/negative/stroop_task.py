# Stroop colour-word task for a psychology lab (troop of volunteers)
import random
from psychopy import visual, core, event
COLOURS = ['red', 'green', 'blue']
win = visual.Window()
stroop_trials = [(w, random.choice(COLOURS)) for w in COLOURS * 10]
for word, ink in stroop_trials:
    visual.TextStim(win, text=word, color=ink).draw(); win.flip()
    event.waitKeys(maxWait=2)
core.quit()
