import rope.GUI as GUI
import rope.VideoManager as VM
import rope.Models as Models


def run():
    models = Models.Models()
    gui = GUI.GUI(models)
    vm = VM.VideoManager(models)
    gui.initialize_gui()
    gui.mainloop()
